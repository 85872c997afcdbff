"""Seeds: the one place that decides a run's seed and spawns its random streams.

A run's seed is an integer in [0, 2**63) (:data:`models.measures.SEED_BOUND`): given by the
request, drawn from fresh OS entropy (:func:`fresh_seed`) and recorded in the result, or derived
from a text (:func:`seed_of`, for runs that must repeat by themselves, such as a loan's
monitoring on a date). The same seed repeats the run bit for bit. Each random component draws
from its own child stream of ``numpy.random.SeedSequence(seed)``:

- :func:`stream` by name (the child's spawn key is a fixed hash of the name), so adding or
  dropping a component leaves the others' draws alone: common random numbers make quotes with
  different inputs comparable (collateral, insurance);
- :func:`child` by integer keys, for numbered streams: the valuation's per-chunk inputs and its
  value paths, a portfolio's factors and blocks (the keys below; changing one changes every
  recorded result of that model);
- :func:`integer_seeds` for a sampler that takes integer seeds of its own (nutpie's chains);
- :func:`generator` for code that accepts a seed, a ``SeedSequence`` or a generator.

Nothing else in the package builds a ``SeedSequence``, a bit generator or ``default_rng``.
"""

from __future__ import annotations

import hashlib
import secrets
import zlib

import numpy as np

from ipvalue.models.measures import SEED_BOUND

SEED_BITS = SEED_BOUND.bit_length() - 1
"""A drawn seed has this many random bits (63): below 2**63, so it fits the request's ``seed``."""

# Numbered streams (spawn keys of `child`), by model.
VALUATION_INPUTS = 0
"""A valuation's uncertain inputs and legal events: chunk ``i`` draws from ``(0, i)``."""
VALUATION_VALUE_PATHS = 1
"""A valuation's value paths over ``horizon_years``."""
VALUATION_VOLATILITY_DRAWS = 2
"""Which posterior volatility draw each value path takes."""
SCREEN_FACTORS = 0
"""A portfolio screening's market and group factors."""
SCREEN_BLOCKS = 1
"""A portfolio screening's own asset draws: block ``b`` draws from ``(1, b)``."""

SeedLike = int | np.random.SeedSequence | np.random.Generator | None


def fresh_seed() -> int:
    """A new seed from the operating system's entropy, below 2**63."""
    return secrets.randbits(SEED_BITS)


def record_seed(seed: int | None) -> int:
    """The seed a run uses: ``seed``, or :func:`fresh_seed` when it is None.

    Raises
    ------
    ValueError
        When ``seed`` is outside [0, 2**63).
    """
    if seed is not None:
        if not 0 <= seed < SEED_BOUND:
            raise ValueError(f"seed: must be in [0, 2**63); got {seed}")
        return int(seed)
    return fresh_seed()


def seed_of(text: str) -> int:
    """A seed derived from ``text``: the first 60 bits of its SHA-256 (the same text, the same
    seed, on every machine and version)."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:15], 16)


def child(seed: int, *key: int) -> np.random.Generator:
    """The generator of ``SeedSequence(seed, spawn_key=key)`` (PCG64); no key: of
    ``SeedSequence(seed)`` itself, which is what ``numpy.random.default_rng(seed)`` gives."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def generator(seed: SeedLike) -> np.random.Generator:
    """A generator from a seed (as :func:`child` without a key), a ``SeedSequence``, or a
    generator (returned as is); None draws fresh entropy (unrecorded: for callers that record
    nothing, such as a sampler's starting points)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.SeedSequence):
        return np.random.Generator(np.random.PCG64(seed))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))


def integer_seeds(seed: int, count: int) -> list[int]:
    """``count`` integer seeds in [0, 2**64) for a sampler with seeds of its own (nutpie): the
    first words of ``SeedSequence(seed)``'s state."""
    return [int(s) for s in np.random.SeedSequence(seed).generate_state(count, np.uint64)]


def stream_key(name: str) -> int:
    """The spawn key of a named stream: CRC-32 of the name (fixed across versions)."""
    return zlib.crc32(name.encode())


def stream(seed: int, name: str) -> np.random.Generator:
    """The named child stream of ``seed``; the same (seed, name) always gives the same draws."""
    return child(seed, stream_key(name))


def streams(seed: int, *names: str) -> tuple[np.random.Generator, ...]:
    """Several named streams of one seed, in the order of ``names``."""
    return tuple(stream(seed, name) for name in names)
