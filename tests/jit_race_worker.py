"""One process of the numba cache race (tests/test_jitcache.py), with its writes sequenced.

Run as ``python jit_race_worker.py ROLE SIGNAL_DIR``. Every process imports librosa and
calls ``yin`` (which reaches the cached gufunc ``localmin``). Role ``B`` compiles three
other functions first, as a process that found part of the cache already written does, so
its kernel symbols carry other ABI tags than ``A``'s. The cache writes of ``localmin`` are
held back until the other process reaches its own, in the order of numba issue 10128's
race: A's kernel, B's kernel, B's wrapper, A's wrapper. On a shared cache directory that
leaves B's kernel beside A's wrapper. Role ``read`` only loads and calls.
"""

import os
import sys
import time
from pathlib import Path

import cantaor  # noqa: F401  (first: isolates numba's cache unless the protection is off)

role, signals = sys.argv[1], Path(sys.argv[2])
import numba  # noqa: E402
from numba.core import caching  # noqa: E402

WAIT_S = 1200.0  # generous: compiling under a heavy load is slow
TIMED_OUT = 3


def _wait_for(name):
    deadline = time.monotonic() + WAIT_S
    while not (signals / name).exists():
        if time.monotonic() > deadline:
            print(f"timed out waiting for {name}", file=sys.stderr)
            os._exit(TIMED_OUT)
        time.sleep(0.05)


def _sequenced_save(original):
    def save(self, key, data):
        if "_localmin" in self._index_name:
            part = "wrapper" if self._index_name.startswith("guf-") else "kernel"
            before = {("B", "kernel"): "A-kernel", ("A", "wrapper"): "B-wrapper"}.get((role, part))
            if before:
                _wait_for(before)
            original(self, key, data)
            (signals / f"{role}-{part}").touch()
        else:
            original(self, key, data)

    return save


if role in ("A", "B"):
    caching.IndexDataCacheFile.save = _sequenced_save(caching.IndexDataCacheFile.save)
if role == "B":
    for offset in range(3):
        numba.njit(lambda x, offset=offset: x + offset)(1.0)

import librosa  # noqa: E402
import numpy as np  # noqa: E402

audio = np.sin(np.arange(22050) * 0.05).astype(np.float32)
print(librosa.yin(audio, fmin=80.0, fmax=1000.0, sr=22050).shape)
