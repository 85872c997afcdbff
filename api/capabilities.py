"""Job functions of the risk capabilities: JSON in, JSON out, no Flask.

Each runs in the request when it is cheap, or in a job worker (another process, or a Dask
worker) when it is not, so each is a module-level function of a JSON payload; see
`api.jobs.submit_or_run`.
"""

from __future__ import annotations

from typing import Any

from pydantic import RootModel

from ipvalue.models.collateral import CollateralRequest
from ipvalue.models.insurance import InsuranceQuoteRequest
from ipvalue.models.triggers import TriggerState


class InsuranceQuoteBody(RootModel[InsuranceQuoteRequest]):  # type: ignore[type-arg]
    """Body of ``POST /v1/insurance/quotes``: a collateral-value or a litigation cover."""


STORED_DRAWS = 10_000
"""Most posterior volatility draws kept in a volatility record (evenly thinned beyond)."""


def volatility_job(payload: dict[str, Any]) -> dict[str, Any]:
    """Estimate volatility (MCMC) from a ``POST /v1/volatility`` body; the result keeps the
    posterior draws (at most `STORED_DRAWS`) for ``POST /v1/collateral`` with ``volatility_id``."""
    from ipvalue.risk.volatility import estimate_volatility

    estimate = estimate_volatility(payload)
    draws = estimate.posterior_sigma_draws
    step = -(-draws.size // STORED_DRAWS)
    result = estimate.to_result().model_copy(
        update={"posterior_sigma_draws": [float(d) for d in draws[::step]]}
    )
    return result.model_dump(mode="json")


def collateral_job(payload: dict[str, Any]) -> dict[str, Any]:
    """Assess collateral from a ``POST /v1/collateral`` body whose value is resolved."""
    from ipvalue.api.feeds import SIGNED_POINT
    from ipvalue.risk.collateral import assess_collateral

    body = dict(payload)
    signed = body.pop(SIGNED_POINT, None)  # set with valuation_id kept: the start is 0
    request = CollateralRequest.model_validate(body)
    return assess_collateral(request, signed_value=signed).model_dump(mode="json")


def insurance_job(payload: dict[str, Any]) -> dict[str, Any]:
    """Quote insurance from a ``POST /v1/insurance/quotes`` body."""
    from ipvalue.risk.insurance import quote_insurance

    request = InsuranceQuoteBody.model_validate(payload).root
    return quote_insurance(request).model_dump(mode="json")


def triggers_job(payload: dict[str, Any]) -> dict[str, Any]:
    """Evaluate re-evaluation triggers from a ``POST /v1/triggers/evaluate`` body."""
    from ipvalue.risk.triggers import evaluate_triggers

    state = TriggerState.model_validate(payload)
    return evaluate_triggers(state).model_dump(mode="json")


def portfolio_job(payload: dict[str, Any], progress: Any = None) -> dict[str, Any]:
    """Screen a portfolio from a ``POST /v1/portfolios/screen`` body (assets as JSON); an
    upload's ``rejected`` rows (``on_error=skip``) pass through to the result."""
    from ipvalue.models.portfolio import PortfolioRequest, RejectedRow
    from ipvalue.risk.portfolio import screen_portfolio, to_csv

    def report(done: int, total: int) -> None:
        if progress is not None:
            progress(done / max(total, 1))

    body = dict(payload)
    rejected = body.pop("rejected", [])
    request = PortfolioRequest.model_validate(body)
    result = screen_portfolio(request, progress=report)
    result.rejected = [RejectedRow.model_validate(r) for r in rejected]
    return result.model_dump(mode="json") | {"csv": to_csv(result, request.assets)}
