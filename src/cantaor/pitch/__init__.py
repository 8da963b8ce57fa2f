"""Stage 1: f0 per recording (swift, melodia, pyin, crepe) and its quality checks."""
