"""cantaor: flamenco singer identification with acoustic motif embeddings."""

from cantaor.util.jitcache import isolate as _isolate_numba_cache

__version__ = "0.1.0"

# Before anything imports numba: its on-disk cache is private to each process
# (see cantaor.util.jitcache: parallel jobs sharing it can corrupt it and segfault).
_isolate_numba_cache()
