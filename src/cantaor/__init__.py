"""cantaor: flamenco singer identification with acoustic motif embeddings."""

__version__ = "0.1.0"
