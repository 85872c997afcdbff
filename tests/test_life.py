"""Remaining legal life from an asset's legal data."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from ipvalue.models.asset import Asset
from ipvalue.valuation.life import remaining_legal_life

DAY = dt.date(2026, 11, 27)


def life(kind: str, jurisdiction: str | None = None, **legal: object):
    asset = Asset.model_validate(
        {"name": "a", "kind": kind, "jurisdiction": jurisdiction, "legal": legal}
    )
    return remaining_legal_life(asset, DAY)


def test_patent_runs_twenty_years_from_filing():
    result = life("patent", filing_date="2010-06-01")
    assert result.expiry_date == dt.date(2030, 6, 1)
    assert result.years == pytest.approx((dt.date(2030, 6, 1) - DAY).days / 365.25)


def test_explicit_expiry_date_wins_over_the_statutory_term():
    assert life("patent", filing_date="2010-06-01", expiry_date="2028-01-01").expiry_date == (
        dt.date(2028, 1, 1)
    )


def test_chinese_utility_model_runs_ten_years():
    assert life("utility_model", "CN", filing_date="2020-01-01").expiry_date == dt.date(2030, 1, 1)


def test_us_design_runs_fifteen_years_from_grant():
    result = life("design", "US", filing_date="2019-01-01", grant_date="2020-03-01")
    assert result.expiry_date == dt.date(2035, 3, 1)


@pytest.mark.parametrize("kind", ["trademark", "copyright", "software", "trade_secret"])
def test_rights_without_a_statutory_end_are_unbounded(kind):
    result = life(kind)
    assert math.isinf(result.years) and result.alive


def test_patent_without_dates_is_unbounded_and_says_so():
    result = life("patent")
    assert math.isinf(result.years)
    assert "cannot be placed" in result.basis


@pytest.mark.parametrize("status", ["lapsed", "expired", "invalidated"])
def test_dead_statuses_have_no_life(status):
    result = life("patent", status=status, filing_date="2020-01-01")
    assert result.years == 0 and not result.alive and status in result.basis


def test_past_expiry_has_no_life():
    result = life("patent", filing_date="2000-01-01")
    assert result.years == 0 and not result.alive
