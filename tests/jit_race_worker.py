"""One process of the numba cache race (tests/test_jitcache.py).

Run as ``python jit_race_worker.py ROLE``. Every process imports librosa and calls ``yin``
(which reaches the cached gufunc ``localmin``). Role ``B`` compiles three other functions
first, as a process that found part of the cache already written does, so the symbols of
what it compiles carry other ABI tags than ``A``'s (numba issue 10128). A race between
such processes on one cache directory can leave one's kernel file beside the other's
wrapper file; the test builds that state from two runs. Role ``read`` only loads and calls.
"""

import sys

import cantaor  # noqa: F401  (first: isolates numba's cache unless the protection is off)

role = sys.argv[1]
import numba  # noqa: E402

if role == "B":
    for offset in range(3):
        numba.njit(lambda x, offset=offset: x + offset)(1.0)

import librosa  # noqa: E402
import numpy as np  # noqa: E402

audio = np.sin(np.arange(22050) * 0.05).astype(np.float32)
print(librosa.yin(audio, fmin=80.0, fmax=1000.0, sr=22050).shape)
