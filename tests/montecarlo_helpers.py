"""Request builders shared by the Monte Carlo tests."""

from __future__ import annotations

from typing import Any

from ipvalue.models.valuation import ValuationRequest

NO_LEGAL_RISK = {"invalidation_hazard": 0, "lapse_hazard": 0, "litigation_loss_hazard": 0}


def make_request(
    methods: list[dict[str, Any]],
    *,
    kind: str = "software",
    legal: dict[str, Any] | None = None,
    **simulation: Any,
) -> ValuationRequest:
    """A request for an asset without a legal end date and, by default, without legal risk."""
    sim = {"paths": 20_000, "seed": 12345, "legal_risk": NO_LEGAL_RISK} | simulation
    return ValuationRequest.model_validate(
        {
            "asset": {"name": "test asset", "kind": kind, "legal": legal or {}},
            "valuation_date": "2026-01-01",
            "currency": "EUR",
            "methods": methods,
            "simulation": sim,
        }
    )


def rfr(**overrides: Any) -> dict[str, Any]:
    """Relief from royalty: 5 years of revenue 100..140, 5 % royalty, 25 % tax, 10 % discount."""
    return {
        "method": "relief_from_royalty",
        "revenue": [100.0, 110.0, 120.0, 130.0, 140.0],
        "royalty_rate": 0.05,
        "tax_rate": 0.25,
        "discount_rate": 0.10,
    } | overrides


def within(mean: float, expected: float, se: float, k: float = 3.0) -> str | None:
    """None when |mean - expected| <= k se, else a message with all three numbers."""
    if abs(mean - expected) <= k * se:
        return None
    return f"simulated {mean:.6g}, expected {expected:.6g}, tolerance {k} x se = {k * se:.3g}"
