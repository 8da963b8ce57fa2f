"""Stage 6: metrics, baselines, results tables, embeddings and the open-set rule."""
