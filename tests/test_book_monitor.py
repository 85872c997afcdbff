"""One loan's monitoring evaluation (risk.book.monitor): re-valued bundle, collateral, triggers."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from ipvalue.models.asset import Asset
from ipvalue.models.book import Appraisal, BookEvent, LoanBody
from ipvalue.risk.book.monitor import (
    PledgedAsset,
    bundle_volatility,
    evaluate_loan,
    is_open,
    run_seed,
)

D = dt.date
RFR = {
    "method": "relief_from_royalty",
    "revenue": {"base": 1_000_000, "growth": 0.0, "years": 10},
    "royalty_rate": 0.05,
    "tax_rate": 0.25,
    "discount_rate": 0.12,
}


def pledged(id_: str, events: tuple[BookEvent, ...] = (), vol: float = 0.4) -> PledgedAsset:
    asset = Asset.model_validate(
        {"name": id_, "kind": "patent", "legal": {"filing_date": "2016-01-01"}}
    )
    appraisal = Appraisal.model_validate(
        {
            "valuation_date": "2026-01-01",
            "currency": "EUR",
            "methods": [RFR],
            "simulation": {"volatility": vol},
        }
    )
    return PledgedAsset(id_, asset, events, appraisal)


LOAN = LoanBody.model_validate(
    {
        "borrower": "B",
        "amount": 100_000,
        "currency": "EUR",
        "start_date": "2026-01-01",
        "term_years": 3,
        "pledged_asset_ids": ["a", "b"],
        "annual_pd": 0.02,
    }
)


def test_bundle_volatility_reference_values() -> None:
    # two equal rights of 40 %: rho = 1 gives 40 %, rho = 0 gives 40 / sqrt(2) %
    assert bundle_volatility([1, 1], [0.4, 0.4], 1.0) == pytest.approx(0.4)
    assert bundle_volatility([1, 1], [0.4, 0.4], 0.0) == pytest.approx(0.4 / math.sqrt(2))
    assert bundle_volatility([3, 0], [0.2, 0.9], 0.5) == pytest.approx(0.2)


def test_open_loans_and_seeds() -> None:
    assert is_open(LOAN, D(2026, 1, 1)) and not is_open(LOAN, D(2025, 12, 31))
    assert not is_open(LOAN, D(2029, 1, 2))
    assert run_seed("x", D(2026, 1, 1)) == run_seed("x", D(2026, 1, 1))
    assert run_seed("x", D(2026, 1, 1)) != run_seed("x", D(2026, 1, 2))


def test_evaluation_is_reproducible_and_a_lapse_counts_zero() -> None:
    assets = [pledged("a"), pledged("b")]
    first = evaluate_loan("L1", LOAN, assets, D(2026, 6, 1), paths=2_000)
    again = evaluate_loan("L1", LOAN, assets, D(2026, 6, 1), paths=2_000)
    assert first.to_json() == again.to_json()
    assert first.collateral is not None and first.value > 0
    assert first.baseline is not None and first.baseline.date == D(2026, 1, 1)
    lapse = BookEvent.model_validate({"type": "lapsed", "date": "2026-05-01", "code": "EXP."})
    lapsed = evaluate_loan(
        "L1",
        LOAN,
        [pledged("a", (lapse,)), pledged("b")],
        D(2026, 6, 1),
        baseline=first.baseline,
        paths=2_000,
    )
    assert lapsed.assets[0]["value"] == 0.0
    assert lapsed.value == pytest.approx(first.value / 2, rel=1e-9)
    rules = {(f.rule, f.asset_id) for f in lapsed.fired}
    assert ("remaining_life", "a") in rules  # the lapse ended the right before maturity
    assert ("value_decline", None) in rules


def test_a_legal_event_is_tied_to_its_asset() -> None:
    suit = BookEvent.model_validate({"type": "infringement_suit", "date": "2026-03-01"})
    out = evaluate_loan(
        "L1", LOAN, [pledged("a"), pledged("b", (suit,))], D(2026, 6, 1), paths=2_000
    )
    assert [(f.rule, f.asset_id) for f in out.fired if f.rule == "legal_event"] == [
        ("legal_event", "b")
    ]


def test_missing_volatility_names_the_field() -> None:
    bare = pledged("a")
    assert bare.appraisal is not None
    no_vol = PledgedAsset(
        "a", bare.asset, (), bare.appraisal.model_copy(update={"simulation": None})
    )
    with pytest.raises(Exception, match=r"appraisal\.simulation\.volatility"):
        evaluate_loan("L1", LOAN, [no_vol], D(2026, 6, 1), paths=2_000)


def test_posterior_draws_feed_the_bundle_and_the_rules() -> None:
    import dataclasses

    import numpy as np

    from ipvalue.risk.book.monitor import Baseline, bundle_draws

    same = bundle_draws([1, 1], [np.full(4, 0.4), np.full(4, 0.4)], 0.0, 4)
    assert same == pytest.approx(np.full(4, 0.4 / math.sqrt(2)))
    cycled = bundle_draws([1], [np.array([0.1, 0.2])], 1.0, 5)
    assert cycled.tolist() == pytest.approx([0.1, 0.2, 0.1, 0.2, 0.1])
    a = dataclasses.replace(pledged("a"), volatility_draws=(0.6, 0.7, 0.8, 0.9))
    out = evaluate_loan(
        "L1", LOAN, [a], D(2026, 6, 1), baseline=Baseline(D(2026, 1, 1), 1e6, 0.4), paths=2_000
    )
    assert out.volatility == pytest.approx(0.75)  # the posterior's mean, not the appraisal's 0.4
    assert ("volatility_rise", None) in {(f.rule, f.asset_id) for f in out.fired}
