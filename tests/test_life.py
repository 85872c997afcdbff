"""Remaining legal life from an asset's legal data, and the calendar that counts it."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from ipvalue.models.asset import Asset
from ipvalue.valuation.dates import add_years, anniversary, years_between
from ipvalue.valuation.discounting import annuity_factor, periodic_cost_pv
from ipvalue.valuation.income_value import discount_income
from ipvalue.valuation.life import TRADEMARK_TERM_YEARS, legal_life

DAY = dt.date(2026, 11, 27)


def life(kind: str, jurisdiction: str | None = None, **legal: object):
    asset = Asset.model_validate(
        {"name": "a", "kind": kind, "jurisdiction": jurisdiction, "legal": legal}
    )
    return legal_life(asset, DAY)


# --- the calendar -----------------------------------------------------------------------------


def test_whole_anniversaries_are_whole_years():
    assert years_between(DAY, dt.date(2031, 11, 27)) == 5.0
    assert years_between(dt.date(2024, 2, 29), dt.date(2025, 2, 28)) == 1.0
    assert anniversary(dt.date(2024, 2, 29), 4) == dt.date(2028, 2, 29)


def test_the_rest_is_a_fraction_of_the_anniversary_year():
    # 2031-11-27 to 2032-11-27 spans 29 February 2032: 366 days.
    assert years_between(DAY, dt.date(2032, 5, 27)) == pytest.approx(5 + 182 / 366, abs=1e-15)
    assert years_between(dt.date(2032, 5, 27), DAY) == -years_between(DAY, dt.date(2032, 5, 27))


def test_five_year_annuity_to_the_fifth_anniversary():
    # PVA(10 %, 5) = (1 - 1.1^-5) / 0.1 = 3.790787 (any annuity table); per 100 a year 379.0787.
    # A 365.25-day year gave 4.9993 years and 379.036.
    years = years_between(DAY, dt.date(2031, 11, 27))
    pv = float(discount_income(np.full(10, 100.0), 0.10, life_years=years).value)
    assert pv == pytest.approx(379.0787, abs=5e-5)
    assert pv == pytest.approx(100 * float(annuity_factor(0.10, 5)), rel=1e-14)


@given(
    st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2100, 12, 31)),
    st.floats(min_value=-40, max_value=40, allow_nan=False),
)
def test_add_years_inverts_years_between_to_half_a_day(day, years):
    """Forward to half a day; backward to a day: counted forward from the earlier date, the
    distance jumps by a day's fraction where a 29 February enters its anniversary year (from
    2000-04-20 back 1.140625 years, 1999-02-28 is 1.1421 and 1999-03-01 is 1.1370)."""
    there = add_years(day, years)
    tolerance = 0.5 / 365 if years >= 0 else 1.0 / 365
    assert abs(years_between(day, there) - years) <= tolerance + 1e-12


@given(
    st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2100, 12, 31)),
    st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2100, 12, 31)),
    st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2100, 12, 31)),
)
def test_years_between_grows_with_the_end_date(start, a, b):
    lo, hi = sorted((a, b))
    assert years_between(start, lo) <= years_between(start, hi)


# --- statutory terms --------------------------------------------------------------------------


def test_patent_runs_twenty_years_from_filing():
    result = life("patent", filing_date="2010-06-01")
    assert result.expiry_date == dt.date(2030, 6, 1)
    # 3 whole years to 2029-11-27, then 186 of the 365 days to 2030-11-27.
    assert result.years == pytest.approx(3 + 186 / 365, abs=1e-15)


def test_explicit_expiry_date_wins_over_the_statutory_term():
    assert life("patent", filing_date="2010-06-01", expiry_date="2028-01-01").expiry_date == (
        dt.date(2028, 1, 1)
    )


def test_chinese_utility_model_runs_ten_years():
    assert life("utility_model", "CN", filing_date="2020-01-01").expiry_date == dt.date(2030, 1, 1)


def test_us_design_runs_fifteen_years_from_grant():
    result = life("design", "US", filing_date="2019-01-01", grant_date="2020-03-01")
    assert result.expiry_date == dt.date(2035, 3, 1)


@pytest.mark.parametrize("kind", ["copyright", "software", "trade_secret"])
def test_rights_without_a_statutory_end_are_unbounded(kind):
    result = life(kind)
    assert math.isinf(result.years) and result.alive and not result.warnings


@pytest.mark.parametrize("kind", ["patent", "utility_model", "design"])
def test_a_right_with_a_term_but_no_dates_is_unbounded_only_with_a_warning(kind):
    result = life(kind)
    assert math.isinf(result.years)
    assert len(result.warnings) == 1
    assert "without a legal limit" in result.warnings[0]
    assert "filing_date" in result.warnings[0]


@pytest.mark.parametrize("status", ["lapsed", "expired", "invalidated"])
def test_dead_statuses_have_no_life(status):
    result = life("patent", status=status, filing_date="2020-01-01")
    assert result.years == 0 and not result.alive and status in result.basis


def test_past_expiry_has_no_life():
    result = life("patent", filing_date="2000-01-01")
    assert result.years == 0 and not result.alive


# --- trademarks -------------------------------------------------------------------------------


def test_a_registered_mark_renews_at_its_expiry_date():
    result = life("trademark", status="registered", expiry_date="2029-11-27")
    assert math.isinf(result.years) and result.renews and result.alive
    assert result.expiry_date == dt.date(2029, 11, 27)
    assert result.renewal is not None and result.renewal.first_years == 3.0
    assert result.renewal.every_years == TRADEMARK_TERM_YEARS and result.renewal.fee == 0


def test_a_passed_renewal_date_rolls_forward_by_whole_terms():
    result = life("trademark", status="registered", filing_date="2010-03-01")
    assert result.expiry_date == dt.date(2030, 3, 1) and result.renews


def test_a_mark_that_is_not_renewed_ends_at_its_expiry_date():
    result = life("trademark", status="registered", expiry_date="2029-11-27", renewal=False)
    assert result.years == 3.0 and not result.renews and result.limited


def test_a_pending_mark_does_not_assume_renewal():
    result = life("trademark", status="pending", expiry_date="2029-11-27")
    assert result.years == 3.0 and not result.renews


def test_a_renewal_fee_without_dates_is_not_counted_and_says_so():
    result = life("trademark", renewal_fee=1000)
    assert math.isinf(result.years) and result.renewal is None
    assert "renewal_fee is not counted" in result.warnings[0]


@pytest.mark.parametrize(
    ("kind", "legal", "field"),
    [
        ("patent", {"renewal": True}, "renewal"),
        ("design", {"renewal_fee": 100}, "renewal_fee"),
        ("trademark", {"renewal": False, "renewal_fee": 100}, "renewal_fee"),
        ("trademark", {"renewal_fee": -1}, "renewal_fee"),
    ],
)
def test_bad_renewal_input_names_the_field(kind, legal, field):
    with pytest.raises(ValidationError) as err:
        Asset.model_validate({"name": "a", "kind": kind, "legal": legal})
    assert err.value.errors()[0]["loc"][-2:] == ("legal", field) or err.value.errors()[0][
        "loc"
    ] == ("legal", field)


def test_renewal_fees_are_a_geometric_series_of_payments():
    # 1,000 at 3, 13, 23 years (until 30), at 10 %: sum 1000 / 1.1^t.
    expected = sum(1000 / 1.1**t for t in (3, 13, 23))
    assert float(periodic_cost_pv(1000, 0.10, 3.0, 10.0, 30.0)) == pytest.approx(expected)
    forever = 1000 / 1.1**3 / (1 - 1.1**-10)
    assert float(periodic_cost_pv(1000, 0.10, 3.0, 10.0)) == pytest.approx(forever)
    assert float(periodic_cost_pv(1000, 0.10, 3.0, 10.0, 3.0)) == 0.0
