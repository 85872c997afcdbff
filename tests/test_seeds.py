"""One place decides seeds and spawns streams: `ipvalue.risk.kernel.seeds` (issue 9, item 1).

Every other module asks it; the source is scanned for anything that builds a ``SeedSequence``,
a bit generator or ``default_rng``, or draws a seed from ``secrets``, outside it. The streams
keep their identities (the recorded results of a seed do not depend on the refactoring), and a
valuation's value paths assign posterior volatility draws the kernel's way.
"""

from __future__ import annotations

import ast
import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ipvalue.api import service
from ipvalue.risk.kernel import seeds
from ipvalue.risk.montecarlo import summary

ROOT = Path(__file__).parents[1]
PACKAGES = ("api", "risk", "valuation", "models")
SEEDS_MODULE = ROOT / "risk" / "kernel" / "seeds.py"
MAKERS = {"SeedSequence", "PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64", "default_rng"}
FIVE = json.loads((ROOT / "examples" / "five_methods.json").read_text())


def _calls(path: Path) -> list[str]:
    """``name (line)`` of every call in ``path`` that makes a random stream or draws a seed."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        owner = func.value if isinstance(func, ast.Attribute) else None
        from_secrets = isinstance(owner, ast.Name) and owner.id == "secrets"
        if name in MAKERS or (from_secrets and name in {"randbits", "randbelow"}):
            found.append(f"{name} (line {node.lineno})")
        if name == "generate_state":
            found.append(f"{name} (line {node.lineno})")
    return found


def test_nothing_outside_the_seeds_module_makes_a_stream_or_a_seed() -> None:
    offenders = {
        str(path.relative_to(ROOT)): calls
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != SEEDS_MODULE and (calls := _calls(path))
    }
    assert offenders == {}, offenders
    assert _calls(SEEDS_MODULE)  # the scan does see them where they are


def test_the_streams_keep_their_identities() -> None:
    # the keys every recorded valuation and screening was drawn with
    base = np.random.SeedSequence
    for key, expected in (
        ((seeds.VALUATION_INPUTS, 3), (0, 3)),
        ((seeds.VALUATION_VALUE_PATHS,), (1,)),
        ((seeds.VALUATION_VOLATILITY_DRAWS,), (2,)),
        ((seeds.SCREEN_FACTORS,), (0,)),
        ((seeds.SCREEN_BLOCKS, 5), (1, 5)),
    ):
        ours = seeds.child(2024, *key).random(4)
        theirs = np.random.Generator(np.random.PCG64(base(2024, spawn_key=expected))).random(4)
        assert ours.tolist() == theirs.tolist()
    assert seeds.generator(7).random(3).tolist() == np.random.default_rng(7).random(3).tolist()
    g = seeds.child(1)
    assert seeds.generator(g) is g
    assert seeds.integer_seeds(5, 2) == [int(s) for s in base(5).generate_state(2, np.uint64)]


def test_drawn_and_derived_seeds_fit_the_request_field() -> None:
    drawn = {seeds.fresh_seed() for _ in range(200)}
    assert len(drawn) == 200 and all(0 <= s < 2**63 for s in drawn)
    assert max(drawn) >= 2**61  # 63 random bits, not 32
    derived = seeds.seed_of("loan-1:2026-06-01")
    assert derived == seeds.seed_of("loan-1:2026-06-01") != seeds.seed_of("loan-1:2026-06-02")
    assert 0 <= derived < 2**60
    with pytest.raises(ValueError, match=r"seed: must be in \[0, 2\*\*63\)"):
        seeds.record_seed(2**63)


def _paths_request(volatility: Any) -> dict[str, Any]:
    body = copy.deepcopy(FIVE)
    body["simulation"] = {
        "paths": 5_000,
        "seed": 42,
        "horizon_years": 3,
        "volatility": volatility,
    }
    return body


def test_value_paths_assign_posterior_draws_through_the_kernel(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    used: list[tuple[int, int]] = []
    kernel = summary.volatility_per_path

    def spy(rng: np.random.Generator, volatility: Any, paths: int) -> Any:
        sigma = kernel(rng, volatility, paths)
        counts = np.unique(sigma, return_counts=True)[1]
        used.append((int(counts.min()), int(counts.max())))
        return sigma

    monkeypatch.setattr(summary, "volatility_per_path", spy)
    service.run_valuation(_paths_request([0.2, 0.3, 0.4, 0.5]))
    assert used == [(1250, 1250)]  # 5,000 paths: every draw serves a quarter of them


def test_equal_draws_give_the_paths_of_that_one_volatility() -> None:
    # the assignment has its own stream: it moves no other draw
    one = service.run_valuation(_paths_request(0.4))["distribution"]["value_paths"]
    four = service.run_valuation(_paths_request([0.4] * 4))["distribution"]["value_paths"]
    assert one["at_horizon"]["quantiles"] == four["at_horizon"]["quantiles"]
    assert one["bands"] == four["bands"]
