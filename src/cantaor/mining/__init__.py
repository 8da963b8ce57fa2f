"""Stage 3: closed sequential patterns (BIDE) and per-singer motif dictionaries."""
