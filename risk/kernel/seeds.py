"""Seeds: one place that records a run's seed and spawns its named random streams.

A run's seed is an integer in [0, 2**63) (:data:`models.measures.SEED_BOUND`): given by the
request, or drawn from fresh OS entropy and recorded in the result, so the same request with that
seed repeats the run bit for bit. Each random component draws from its own child stream of
``numpy.random.SeedSequence(seed)``:

- :func:`stream` by name (the child's spawn key is a fixed hash of the name), so adding or
  dropping a component leaves the others' draws alone: common random numbers make quotes with
  different inputs comparable;
- :func:`child` by an integer key, for numbered streams (a portfolio's blocks, a valuation's
  chunks), ``SeedSequence(seed, spawn_key=key)``.
"""

from __future__ import annotations

import zlib

import numpy as np

from ipvalue.models.measures import SEED_BOUND


def record_seed(seed: int | None) -> int:
    """The seed a run uses: ``seed``, or fresh entropy below 2**63 when it is None."""
    if seed is not None:
        if not 0 <= seed < SEED_BOUND:
            raise ValueError(f"seed: must be in [0, 2**63); got {seed}")
        return int(seed)
    state = np.random.SeedSequence().generate_state(2, np.uint32)
    return (int(state[0]) << 31) ^ int(state[1])  # 63 bits


def child(seed: int, *key: int) -> np.random.Generator:
    """The generator of ``SeedSequence(seed, spawn_key=key)`` (PCG64)."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def stream_key(name: str) -> int:
    """The spawn key of a named stream: CRC-32 of the name (fixed across versions)."""
    return zlib.crc32(name.encode())


def stream(seed: int, name: str) -> np.random.Generator:
    """The named child stream of ``seed``; the same (seed, name) always gives the same draws."""
    return child(seed, stream_key(name))


def streams(seed: int, *names: str) -> tuple[np.random.Generator, ...]:
    """Several named streams of one seed, in the order of ``names``."""
    return tuple(stream(seed, name) for name in names)
