"""The ranked table of a screening, out as CSV (:func:`to_csv`) or an Excel workbook
(:func:`to_xlsx`): :data:`RESULT_COLUMNS`, the input columns (:data:`INPUT_COLUMNS`: volatility,
jurisdiction, status, dates, hazards) beside each asset's results. Text that a spreadsheet would
take for a formula is written as text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from openpyxl import Workbook

from ipvalue.models.portfolio import (
    PortfolioAsset,
    PortfolioResult,
)

INPUT_COLUMNS = (
    "jurisdiction",
    "status",
    "filing_date",
    "grant_date",
    "expiry_date",
    "remaining_life_years",
    "volatility",
    "invalidation_hazard",
    "lapse_hazard",
)
"""Input columns the ranked table repeats beside the results (from the screened assets)."""

RESULT_COLUMNS = (
    "rank",
    "id",
    "name",
    "kind",
    "sector",
    "technology",
    "jurisdiction",
    "status",
    "filing_date",
    "grant_date",
    "expiry_date",
    "remaining_life_years",
    "value",
    "volatility",
    "invalidation_hazard",
    "lapse_hazard",
    "weight",
    "mean",
    "se_mean",
    "p05",
    "p50",
    "p95",
    "se_p05",
    "var95",
    "es95",
    "var99",
    "es99",
    "prob_protection_loss",
    "expires_within_horizon",
    "under_challenge",
    "risk_adjusted_value",
    "risk_adjusted_ratio",
)
"""Columns of the ranked table, CSV and Excel alike."""

_TEXT = frozenset(
    {"id", "name", "kind", "sector", "technology", "jurisdiction", "status", "grant_date"}
    | {"filing_date", "expiry_date"}
)
_SHARES = frozenset(
    {"weight", "prob_protection_loss", "risk_adjusted_ratio", "volatility"}
    | {"invalidation_hazard", "lapse_hazard"}
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def ranked_rows(
    result: PortfolioResult, assets: Sequence[PortfolioAsset] = ()
) -> Iterator[dict[str, Any]]:
    """The ranked table's rows as typed values (keys :data:`RESULT_COLUMNS`), rank order.

    Parameters
    ----------
    result : PortfolioResult
        The screening.
    assets : sequence of PortfolioAsset
        The screened assets, for the :data:`INPUT_COLUMNS` (empty cells when not given).
    """
    by_id = {a.id: a for a in assets}
    for r in result.assets:
        data: dict[str, Any] = dict.fromkeys(INPUT_COLUMNS)
        given = by_id.get(r.id)
        if given is not None:
            data |= given.model_dump(include=set(INPUT_COLUMNS))
        data |= r.model_dump()
        yield {c: data[c] for c in RESULT_COLUMNS}


def _out(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if name in _TEXT:
        text = str(value)
        # A leading quote stops spreadsheets from running cell text as a formula (OWASP).
        return "'" + text if text.startswith(_FORMULA_START) else text
    if isinstance(value, int):
        return str(value)
    return f"{value:.6f}" if name in _SHARES else f"{value:.2f}"


def _rows(rows: Iterable[dict[str, Any]]) -> Iterable[list[str]]:
    for data in rows:
        yield [_out(c, data[c]) for c in RESULT_COLUMNS]


def to_csv(result: PortfolioResult, assets: Sequence[PortfolioAsset] = ()) -> str:
    """The ranked table as CSV text (header + one line per asset, rank order).

    Columns are :data:`RESULT_COLUMNS`: the input columns of ``assets`` (volatility,
    jurisdiction, status, dates, hazards) beside the results; money to 2 decimals, shares and
    probabilities to 6, booleans ``true``/``false``, dates ISO. Text starting with
    ``= + - @`` gets a leading ``'`` so a spreadsheet shows it instead of evaluating it.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(RESULT_COLUMNS)
    writer.writerows(_rows(ranked_rows(result, assets)))
    return buf.getvalue()


def _append(sheet: Any, values: Sequence[Any]) -> None:
    """Append a row; every text cell stays text (openpyxl would run ``=...`` as a formula)."""
    sheet.append(list(values))
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def to_xlsx(result: PortfolioResult, assets: Sequence[PortfolioAsset] = ()) -> bytes:
    """The screening as an Excel workbook (.xlsx bytes).

    Sheets: ``ranked`` (the table of :func:`to_csv`, numbers as numbers, dates as dates),
    ``totals`` (the portfolio's figures and concentration, one per row) and, when an upload
    had rows left out, ``rejected`` (row, line, id, field, message).
    """
    book = Workbook()
    ranked = book.active
    ranked.title = "ranked"
    _append(ranked, RESULT_COLUMNS)
    for data in ranked_rows(result, assets):
        _append(ranked, [data[c] for c in RESULT_COLUMNS])
    ranked.freeze_panes = "C2"
    totals = book.create_sheet("totals")
    _append(totals, ("figure", "value"))
    _append(totals, ("currency", result.currency))
    figures = {
        **result.totals.model_dump(mode="json", exclude={"tail"}),
        **result.concentration.model_dump(mode="json"),
    }
    for name, value in figures.items():
        for key, item in value.items() if isinstance(value, dict) else [(None, value)]:
            scalar = item if item is None or isinstance(item, str | int | float) else str(item)
            _append(totals, (name if key is None else f"{name}.{key}", scalar))
    _append(totals, ("seed_entropy", str(result.settings.seed_entropy)))
    _append(totals, ("score", result.settings.score))
    if result.rejected:
        rejected = book.create_sheet("rejected")
        _append(rejected, ("row", "line", "id", "field", "message"))
        for bad in result.rejected:
            for problem in bad.errors:
                _append(rejected, (bad.row, bad.line, bad.id, problem.field, problem.message))
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
