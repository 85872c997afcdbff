"""Portfolio files: parse a CSV or Excel upload into validated assets, write the ranked table.

Input layout (an Excel workbook's first sheet is laid out the same way, with number, date and
boolean cells read as such): UTF-8 (a byte-order mark is allowed), comma-separated, one header
line, then one asset per line. Column names are case-insensitive and may come in any order;
unknown columns are refused (a misspelt ``volatilty`` would otherwise be dropped silently).
Empty cells of optional columns mean "not given".

========================  ========  ===================================================
column                    required  meaning
========================  ========  ===================================================
``id``                    yes       the fund's identifier, unique in the file
``kind``                  yes       patent, utility_model, design, trademark, copyright,
                                    software, trade_secret
``sector``                yes       copula group (and sector concentration)
``value``                 yes       point value today, currency, > 0 (``1234567.5``: no
                                    thousands separators, no currency sign)
``volatility``            yes       annual volatility of the log value, decimal (0.35)
``name``                  no        display name (defaults to id)
``technology``            no        alternative copula group (``group_by: technology``)
``jurisdiction``          no        ISO 3166-1 alpha-2 code
``status``                no        pending, granted (default), registered, lapsed,
                                    expired, invalidated
``filing_date``           no        ISO date; dates the statutory term when no expiry is given
``grant_date``            no        ISO date; dates the patent maintenance-fee schedule
``expiry_date``           no        ISO date protection ends (or ...)
``remaining_life_years``  no        ... years of protection left; not both
``under_challenge``       no        true/false, yes/no, 1/0; a challenge is pending
``invalidation_hazard``   no        yearly probability, decimal in [0, 1)
``lapse_hazard``          no        yearly probability, decimal in [0, 1)
========================  ========  ===================================================

Errors: every problem in the file is collected (up to :data:`MAX_PROBLEMS`), every bad cell of
a row included, and raised at once as :class:`~ipvalue.models.errors.InputError`; by default
(``on_error="reject"``) nothing is returned from a file with any problem. With
``on_error="skip"`` the good rows are returned and each bad row is listed as a
:class:`~ipvalue.models.portfolio.RejectedRow` with its line; file-wide problems (encoding,
header, too many rows, no valid row) still refuse the file. Field paths are ``rows[N].column``
where N is the 1-based data row (the header is not counted, blank lines are skipped); each
message says ``row N (line L)`` with L the line in the file (``sheet row L`` in a workbook).
File-wide problems use ``file``, ``columns.<name>`` or ``rows``.

The ranked table going out is `ipvalue.risk.portfolio.ranked_table`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from openpyxl import load_workbook
from pydantic import ValidationError

from ipvalue.models.errors import FieldProblem, InputError
from ipvalue.models.fields import house_message
from ipvalue.models.portfolio import (
    PortfolioAsset,
    RejectedRow,
    RowProblem,
)

REQUIRED = ("id", "kind", "sector", "value", "volatility")
OPTIONAL = (
    "name",
    "technology",
    "jurisdiction",
    "status",
    "filing_date",
    "grant_date",
    "expiry_date",
    "remaining_life_years",
    "under_challenge",
    "invalidation_hazard",
    "lapse_hazard",
)
CSV_COLUMNS = REQUIRED + OPTIONAL
NUMBERS = frozenset(
    {"value", "volatility", "remaining_life_years", "invalidation_hazard", "lapse_hazard"}
)
BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
MAX_PROBLEMS = 50
OnError = Literal["reject", "skip"]
ON_ERROR: tuple[OnError, ...] = ("reject", "skip")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


class _Problems:
    """Collects problems up to a cap."""

    def __init__(self) -> None:
        self.items: list[FieldProblem] = []

    def add(self, field: str, message: str) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(FieldProblem(field, message))

    def raise_if_any(self, what: str) -> None:
        if self.items:
            first = self.items[0]
            more = f" (and {len(self.items) - 1} more)" if len(self.items) > 1 else ""
            raise InputError(f"{what}: {first.field}: {first.message}{more}", self.items)


def _fail(field: str, message: str) -> InputError:
    return InputError(f"portfolio CSV refused: {field}: {message}", [FieldProblem(field, message)])


def _cells(line: str) -> list[str]:
    """Cells of one line of CSV, or none when the line cannot be read on its own."""
    try:
        return next(csv.reader([line]), [])
    except csv.Error:
        return []


def _decode(data: bytes) -> str:
    """UTF-8 text of the file, or an error naming each row and column with bad bytes."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _fail("file", "is UTF-16; save it as UTF-8 (CSV UTF-8 in spreadsheet programs)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    problems = _Problems()
    lines = data.splitlines()
    names = [h.strip().lower() for h in _cells(lines[0].decode("utf-8-sig", errors="replace"))]
    row = 0
    for number, raw in enumerate(lines, start=1):
        text = raw.decode("utf-8", errors="replace")
        if number > 1 and any(c.strip() for c in _cells(text)):
            row += 1
        try:
            raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            bad = raw[exc.start : exc.start + 1].hex().upper()
            cells = _cells(text)
            col = next((j for j, c in enumerate(cells) if "\ufffd" in c), None)
            column = names[col] if col is not None and col < len(names) else None
            where = "the header" if number == 1 else f"row {row} (line {number})"
            field = "columns" if number == 1 else f"rows[{row}]"
            if column and number > 1:
                field += f".{column}"
                where += f", column {column!r},"
            problems.add(
                field,
                f"{where} is not valid UTF-8 (byte 0x{bad}); save the file as UTF-8 "
                "(it looks like Latin-1 or Windows-1252)",
            )
    problems.raise_if_any("portfolio CSV is not UTF-8")
    raise _fail("file", "is not valid UTF-8; save it as UTF-8")  # pragma: no cover


def _header(cells: list[str]) -> list[str]:
    names = [c.strip().lower() for c in cells]
    problems = _Problems()
    if len(names) == 1 and ";" in names[0]:
        raise _fail(
            "columns",
            "the header has ';' separators; ipvalue reads comma-separated files "
            f"with columns {', '.join(REQUIRED)}, ...",
        )
    seen: set[str] = set()
    for name in names:
        if name in seen:
            problems.add(f"columns.{name}", f"column {name!r} appears twice in the header")
        seen.add(name)
        if name not in CSV_COLUMNS:
            problems.add(
                f"columns.{name or '(blank)'}",
                f"unknown column {name!r}; allowed columns are {', '.join(CSV_COLUMNS)}",
            )
    for name in REQUIRED:
        if name not in seen:
            problems.add(
                f"columns.{name}",
                f"required column {name!r} is missing; required: {', '.join(REQUIRED)}",
            )
    problems.raise_if_any("portfolio CSV has a bad header")
    return names


def _cell(name: str, raw: str, where: str) -> tuple[Any, str | None]:
    """Convert one non-empty cell; returns (value, error message or None)."""
    text = raw.strip()
    if name in NUMBERS:
        if text.endswith("%"):
            return None, f"{where}: write {name} as a decimal (0.35 for 35 %); got {text!r}"
        if _NUMBER.match(text) is None:
            hint = " without thousands separators" if "," in text or " " in text else ""
            return None, f"{where}: {name} must be a number{hint}, e.g. 1234.5; got {text!r}"
        return float(text), None
    if name == "under_challenge":
        flag = BOOLEANS.get(text.lower())
        if flag is None:
            return None, f"{where}: under_challenge must be true or false; got {text!r}"
        return flag, None
    if name in {"kind", "status"}:
        return text.lower(), None
    control = next((c for c in text if ord(c) < 32 and c != "\t"), None)
    if control is not None:
        return None, f"{where}: {name} contains the control character U+{ord(control):04X}"
    return text, None


def _pydantic_problems(
    exc: ValidationError, row: int, where: str, cells: dict[str, str]
) -> Iterator[tuple[str, str]]:
    """(field path, message) for each pydantic error of one row."""
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err["loc"]]
        message = str(err["msg"]).removeprefix("Value error, ")
        column = loc[0] if loc else ""
        if ": " in message and not column:
            column, message = message.split(": ", 1)
        message = house_message(err["type"], err.get("ctx") or {}, err.get("input"), message)
        given = (cells.get(column) or "").strip()
        got = f"; got {given!r}" if given and "; got " not in message else ""
        yield f"rows[{row}].{column}", f"{where}: {column}: {message}{got}"


def _records(text: str, max_rows: int) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header cells and (line, cells) of each non-blank data record, refusing too many rows."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    records: list[tuple[int, list[str]]] = []
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = cells
                continue
            if len(records) >= max_rows:
                raise _fail(
                    "rows",
                    f"the file has more than {max_rows} data rows (the limit is {max_rows}); "
                    "split the portfolio or ask for a higher limit",
                )
            records.append((reader.line_num, cells))
    except csv.Error as exc:
        raise _fail(
            f"rows[{len(records) + 1}]",
            f"row {len(records) + 1} (line {reader.line_num}) cannot be read as CSV: {exc}",
        ) from exc
    if header is None:
        raise _fail("file", f"is empty; expected a header line with {', '.join(REQUIRED)}, ...")
    return header, records


@dataclass(frozen=True)
class PortfolioUpload:
    """A parsed upload: the assets to screen and, under ``on_error="skip"``, the rows left out.

    Attributes
    ----------
    assets : list of PortfolioAsset
        One per accepted data row, in file order.
    rejected : list of RejectedRow
        Rows left out, each with its line and problems (empty under ``on_error="reject"``).
    """

    assets: list[PortfolioAsset]
    rejected: list[RejectedRow] = field(default_factory=list)


def _row_asset(
    row: int, where: str, cells: list[str], names: list[str]
) -> tuple[PortfolioAsset | None, list[FieldProblem]]:
    """The asset of one data row, or the row's problems (every bad cell, not only the first)."""
    if len(cells) != len(names):
        message = f"{where} has {len(cells)} cells but the header has {len(names)} columns"
        return None, [FieldProblem(f"rows[{row}]", message)]
    raw = dict(zip(names, cells, strict=True))
    values: dict[str, Any] = {}
    problems: list[FieldProblem] = []
    for name, cell in raw.items():
        if not cell.strip():
            continue
        value, error = _cell(name, cell, where)
        if error:
            problems.append(FieldProblem(f"rows[{row}].{name}", error))
        else:
            values[name] = value
    try:
        asset = PortfolioAsset.model_validate(values)
    except ValidationError as exc:
        # Cells that could not be read are reported above; the model speaks for the others.
        unread = {p.field for p in problems}
        problems += [
            FieldProblem(f, m)
            for f, m in _pydantic_problems(exc, row, where, raw)
            if f not in unread
        ]
        return None, problems
    return (None, problems) if problems else (asset, [])


def _assets(
    header: list[str],
    records: list[tuple[int, list[str]]],
    on_error: OnError,
    place: str,
    what: str = "portfolio CSV",
) -> PortfolioUpload:
    """Validate the data records: all or nothing, or (``skip``) the good rows and the rejected."""
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}; got {on_error!r}")
    names = _header(header)
    if not records:
        raise _fail("rows", "the file has a header but no data rows")
    problems = _Problems()
    assets: list[PortfolioAsset] = []
    rejected: list[RejectedRow] = []
    first_row: dict[str, int] = {}
    for row, (line, cells) in enumerate(records, start=1):
        where = f"row {row} ({place} {line})"
        asset, found = _row_asset(row, where, cells, names)
        if asset is not None and asset.id in first_row:
            message = f"{where}: id {asset.id!r} repeats the id of row {first_row[asset.id]}"
            found = [FieldProblem(f"rows[{row}].id", message)]
        elif asset is not None:
            first_row[asset.id] = row
            assets.append(asset)
        for problem in found:
            problems.add(problem.field, problem.message)
        if found and on_error == "skip":
            cell_id = dict(zip(names, cells, strict=False)).get("id", "").strip()
            rejected.append(
                RejectedRow(
                    row=row,
                    line=line,
                    id=cell_id or None,
                    errors=[RowProblem(field=p.field, message=p.message) for p in found],
                )
            )
    if on_error == "reject" or not assets:
        problems.raise_if_any(f"{what} refused" if assets else f"{what} has no valid row")
    return PortfolioUpload(assets, rejected)


def read_portfolio_csv(data: bytes, max_rows: int, on_error: OnError = "reject") -> PortfolioUpload:
    """Parse and validate a portfolio CSV upload.

    Parameters
    ----------
    data : bytes
        The file as uploaded (UTF-8, comma-separated; layout in the module docstring).
    max_rows : int
        Largest number of data rows accepted (the header is not counted), >= 1.
    on_error : {"reject", "skip"}
        ``reject`` (default) refuses the whole file when any row is bad; ``skip`` keeps the
        good rows and lists the bad ones in ``rejected`` with their lines and problems.

    Returns
    -------
    PortfolioUpload
        The assets, in file order, and the rejected rows.

    Raises
    ------
    InputError
        With one :class:`~ipvalue.models.errors.FieldProblem` per problem (``rows[N].column``,
        ``columns.<name>``, ``rows`` or ``file``): any problem under ``reject``; under
        ``skip`` a file-wide problem (encoding, header, size) or no valid row at all.
    """
    if max_rows < 1:
        raise ValueError(f"max_rows must be at least 1; got {max_rows}")
    if not data.strip():
        raise _fail("file", f"is empty; expected a header line with {', '.join(REQUIRED)}, ...")
    header, records = _records(_decode(data), max_rows)
    return _assets(header, records, on_error, "line")


def parse_portfolio_csv(data: bytes, max_rows: int) -> list[PortfolioAsset]:
    """Parse and validate a portfolio CSV upload, all or nothing.

    Parameters
    ----------
    data : bytes
        The file as uploaded (UTF-8, comma-separated; layout in the module docstring).
    max_rows : int
        Largest number of data rows accepted (the header is not counted), >= 1.

    Returns
    -------
    list of PortfolioAsset
        One per data row, in file order.

    Raises
    ------
    InputError
        With one :class:`~ipvalue.models.errors.FieldProblem` per problem (``rows[N].column``,
        ``columns.<name>``, ``rows`` or ``file``); the file is refused whole.
    """
    return read_portfolio_csv(data, max_rows).assets


def _excel_text(value: Any) -> str:
    """A spreadsheet cell as the text a CSV cell would hold (dates ISO, booleans true/false)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


_NOT_XLSX = (
    "is not a readable Excel workbook (.xlsx); save it as Excel Workbook (.xlsx) or send CSV "
    "with Content-Type: text/csv"
)


def _sheet_records(
    sheet: Any, max_rows: int
) -> tuple[list[str] | None, list[tuple[int, list[str]]]]:
    """Header cells and (sheet row, cells) of each non-blank row, refusing too many rows."""
    header: list[str] | None = None
    records: list[tuple[int, list[str]]] = []
    for line, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = [_excel_text(v) for v in values]
        while cells and not cells[-1].strip():
            cells.pop()
        if not cells:
            continue
        if header is None:
            header = cells
            continue
        if len(records) >= max_rows:
            raise _fail(
                "rows",
                f"the sheet has more than {max_rows} data rows (the limit is {max_rows}); "
                "split the portfolio or ask for a higher limit",
            )
        records.append((line, cells + [""] * (len(header) - len(cells))))
    return header, records


def read_portfolio_xlsx(
    data: bytes, max_rows: int, on_error: OnError = "reject"
) -> PortfolioUpload:
    """Parse and validate a portfolio Excel workbook (.xlsx): the first sheet, laid out as the CSV.

    The first non-blank row is the header, one asset per row below it; number, date and
    boolean cells are read as such, text cells as in a CSV. Line numbers in messages and in
    ``rejected`` are the sheet's row numbers. Parameters, result and errors as
    :func:`read_portfolio_csv`.
    """
    if max_rows < 1:
        raise ValueError(f"max_rows must be at least 1; got {max_rows}")
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # any library failure on a foreign file means "not a workbook"
        raise _fail("file", _NOT_XLSX) from exc
    try:
        header, records = _sheet_records(book.worksheets[0], max_rows)
    except InputError:
        raise
    except Exception as exc:  # a damaged part inside the zip shows only when read
        raise _fail("file", _NOT_XLSX) from exc
    finally:
        book.close()
    if header is None:
        raise _fail(
            "file", f"has an empty first sheet; expected a header row with {', '.join(REQUIRED)}"
        )
    return _assets(header, records, on_error, "sheet row", "portfolio workbook")
