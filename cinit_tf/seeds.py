"""Independent random streams: one per (purpose, seed), so the three seeds of a trial never interact."""

from __future__ import annotations

import zlib

import numpy as np


def rng(stream: str, seed: int) -> np.random.Generator:
    """A generator for one named stream ("embedding", "mlp", "split", ...) and an integer seed.

    The stream name enters the SeedSequence entropy, so equal integers in two streams
    still give unrelated draws.
    """
    if seed < 0:
        raise ValueError(f"seeds are non-negative integers, got {seed}")
    tag = zlib.crc32(stream.encode())
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([tag, int(seed)])))
