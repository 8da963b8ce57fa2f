"""The synthetic demo corpus, and how well the pipeline recovers what it planted."""
