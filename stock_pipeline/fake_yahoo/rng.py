"""Counter-based randomness: hashes of (symbol, day, minute) instead of a stateful RNG.

Any bar can then be generated alone and always comes out the same, in any process
(``stable_hash`` replaces Python's salted ``hash``).
"""

from __future__ import annotations

import hashlib

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
UIntArray = npt.NDArray[np.uint64]

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
STREAM_WICKS = np.uint64(0x5851F42D4C957F2D)
STREAM_DAY = np.uint64(0x14057B7EF767814F)
_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)
_TWO_POW_53 = float(2**53)


def stable_hash(text: str) -> int:
    """A 64-bit hash that, unlike ``hash()``, is the same in every process."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def mix64(x: UIntArray) -> UIntArray:
    """SplitMix64's finaliser, vectorised (uint64 arithmetic wraps, as intended)."""
    x = (x ^ (x >> np.uint64(30))) * _C1
    x = (x ^ (x >> np.uint64(27))) * _C2
    return x ^ (x >> np.uint64(31))


def unit(h: UIntArray) -> FloatArray:
    """Uniform [0, 1) from the top 53 bits of a hash."""
    return (h >> np.uint64(11)).astype(np.float64) / _TWO_POW_53


def fields(h: UIntArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Three independent uniforms [0, 1) from the 21-bit fields of one hash."""
    mask = np.uint64(0x1FFFFF)
    scale = 1.0 / float(1 << 21)
    a = (h & mask).astype(np.float64) * scale
    b = ((h >> np.uint64(21)) & mask).astype(np.float64) * scale
    c = ((h >> np.uint64(42)) & mask).astype(np.float64) * scale
    return a, b, c


def hash_unit(seed: int, *keys: int) -> float:
    """One deterministic uniform [0, 1) for a symbol seed and integer keys."""
    h = np.array([seed], dtype=np.uint64)
    for key in keys:
        h = mix64(h ^ (np.array([key & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64) * GOLDEN))
    return float(unit(h)[0])


def hash_units(seed: int, salt: int, keys: IntArray) -> FloatArray:
    """Deterministic uniforms [0, 1), one per integer key, for a symbol seed and a salt."""
    base = mix64(
        np.array([seed ^ (salt * 0x632BE59BD9B4E019 & 0xFFFFFFFFFFFFFFFF)], dtype=np.uint64)
    )
    return unit(mix64(mix64(base ^ (keys.astype(np.uint64) * GOLDEN))))
