"""Stage 4: acoustic features of motif occurrences, and the feature stores."""
