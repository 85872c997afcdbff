"""Bulk legal-status files: parsed into events, matched to kept assets, problems by line.

Two formats (``POST /v1/legal-status/imports?format=...``):

``uspto-maintfee``
    The USPTO patent maintenance-fee events file (``MaintFeeEvents_yyyymmdd.txt``), one event a
    line, seven space-separated fields; layout and codes in
    :mod:`ipvalue.risk.book.office_codes`. The event's date is the event entry date; the
    asset is found by its patent number (``publication_number`` or ``registration_number``) or
    its application number.

``csv``
    A header line and one event a row, comma-separated (RFC 4180 quoting). Columns:
    ``asset_id`` or one of ``publication_number``, ``application_number``,
    ``registration_number`` (which finds the asset); ``date`` (ISO 8601); ``type`` (a book event
    type) or ``code`` (a USPTO maintenance-fee code, mapped as in that format), or both; opt.
    ``source`` (default ``csv``), ``detail``, ``status`` (of a proceeding). Other columns are
    refused, so a misspelt header is seen.

A line that cannot be read (wrong field count, a date that is not a date, an unknown ``type``)
is *rejected* with its line number. A known line whose code maps to no event type is
*administrative*. A line with a code in no table is *unknown*: kept with its line and reported,
never dropped.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

from pydantic import ValidationError

from ipvalue.models.book import BookEvent, BookEventType
from ipvalue.risk.book.office_codes import SOURCE_USPTO_MAINTFEE, lookup

Format = Literal["uspto-maintfee", "csv"]
FORMATS: tuple[str, ...] = get_args(Format)

ID_FIELDS = ("publication_number", "application_number", "registration_number")
CSV_COLUMNS = ("asset_id", *ID_FIELDS, "date", "type", "code", "source", "detail", "status")
_ENTITY = {"N": "undiscounted", "Y": "small", "M": "micro"}
_NUMBER = re.compile(r"^(?:US)?(D|RE|PP|H|T|X|AI)?0*(\d+)(?:[A-Z]\d?)?$")


@dataclass(frozen=True)
class Rejected:
    """A line that could not be read: its number (1 = the first line) and why."""

    line: int
    message: str


@dataclass(frozen=True)
class Row:
    """One readable line of a legal-status file.

    Attributes
    ----------
    line : int
        Line number in the file (1 = the first line).
    ids : dict
        How the line names its asset: ``asset_id`` or external ids, as printed.
    code : str or None
        The office code, as printed.
    date : datetime.date
    event : BookEvent or None
        The event, or None for an administrative or unknown code.
    unknown : bool
        True when the code is in no table.
    detail : str or None
    source : str
    """

    line: int
    ids: dict[str, str]
    code: str | None
    date: dt.date
    event: BookEvent | None
    unknown: bool
    detail: str | None
    source: str


@dataclass
class Parsed:
    """A parsed file: its readable rows and its rejected lines."""

    rows: list[Row] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


def normalise_number(number: str) -> str:
    """An office number in one spelling for matching: upper case, no blanks or punctuation,
    no ``US`` prefix, no kind code (``B2``), no leading zeros (``US 7,654,321 B2`` ->
    ``7654321``; ``D0512345`` -> ``D512345``; ``06/218,733`` -> ``6218733``)."""
    compact = re.sub(r"[\s,./\-]", "", number.upper())
    found = _NUMBER.match(compact)
    if found is None:
        return compact
    return f"{found.group(1) or ''}{found.group(2)}"


def _date(text: str, what: str) -> dt.date:
    try:
        if re.fullmatch(r"\d{8}", text):
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a date (YYYYMMDD or YYYY-MM-DD)") from None


def _coded_event(
    code: str, date: dt.date, source: str, detail: str | None
) -> tuple[BookEvent | None, bool, str | None]:
    known = lookup(code)
    if known is None:
        return None, True, detail
    text = known.description if detail is None else f"{known.description}; {detail}"
    if known.type is None:
        return None, False, text
    event = BookEvent.model_validate(
        {"type": known.type, "date": date, "code": code, "source": source, "detail": text}
    )
    return event, False, text


def parse_maintfee(lines: Iterable[str]) -> Parsed:
    """Parse a USPTO maintenance-fee events file (see the module docstring).

    Parameters
    ----------
    lines : iterable of str
        The file's lines (any line endings; blank lines are skipped).

    Returns
    -------
    Parsed
    """
    out = Parsed()
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text:
            continue
        parts = text.split()
        if len(parts) != 7:
            out.rejected.append(
                Rejected(
                    number,
                    f"expected 7 space-separated fields (patent number, application number, "
                    f"entity, filing date, grant date, entry date, event code); got {len(parts)}",
                )
            )
            continue
        patent, application, entity, filed, granted, entered, code = parts
        try:
            if entity not in _ENTITY:
                raise ValueError(f"entity status {entity!r} is not N, Y or M")
            _date(filed, "filing date")
            _date(granted, "grant date")
            date = _date(entered, "event entry date")
        except ValueError as exc:
            out.rejected.append(Rejected(number, str(exc)))
            continue
        detail = f"entity {_ENTITY[entity]}; granted {granted}"
        event, unknown, detail_text = _coded_event(code, date, SOURCE_USPTO_MAINTFEE, detail)
        out.rows.append(
            Row(
                line=number,
                ids={"patent_number": patent, "application_number": application},
                code=code,
                date=date,
                event=event,
                unknown=unknown,
                detail=detail_text,
                source=SOURCE_USPTO_MAINTFEE,
            )
        )
    return out


def parse_csv(text: str) -> Parsed:
    """Parse the documented CSV format (see the module docstring)."""
    out = Parsed()
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        out.rejected.append(Rejected(1, "the file is empty; the first line names the columns"))
        return out
    names = [h.strip() for h in header]
    unknown = [n for n in names if n not in CSV_COLUMNS]
    missing = [] if "date" in names else ["date"]
    if not {"asset_id", *ID_FIELDS} & set(names):
        missing.append("asset_id or an external id")
    if not {"type", "code"} & set(names):
        missing.append("type or code")
    if unknown or missing:
        why = []
        if unknown:
            why.append(f"unknown columns {unknown} (known: {', '.join(CSV_COLUMNS)})")
        if missing:
            why.append(f"missing {', '.join(missing)}")
        out.rejected.append(Rejected(1, "; ".join(why)))
        return out
    for row in reader:
        number = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(names):
            out.rejected.append(
                Rejected(number, f"expected {len(names)} fields as the header; got {len(row)}")
            )
            continue
        cells = {n: c.strip() for n, c in zip(names, row, strict=True)}
        parsed = _csv_row(number, cells)
        if isinstance(parsed, Rejected):
            out.rejected.append(parsed)
        else:
            out.rows.append(parsed)
    return out


def _csv_row(number: int, cells: Mapping[str, str]) -> Row | Rejected:
    ids = {k: cells[k] for k in ("asset_id", *ID_FIELDS) if cells.get(k)}
    if not ids:
        return Rejected(number, "give asset_id or an external id to find the asset")
    try:
        date = _date(cells.get("date", ""), "date")
    except ValueError as exc:
        return Rejected(number, str(exc))
    source = cells.get("source") or "csv"
    detail = cells.get("detail") or None
    code = cells.get("code") or None
    kind = cells.get("type") or None
    if kind is None and code is None:
        return Rejected(number, "give type or code")
    if kind is not None and kind not in get_args(BookEventType):
        return Rejected(
            number,
            f"type {kind!r} is not an event type; use one of {', '.join(get_args(BookEventType))}",
        )
    if kind is None:
        assert code is not None
        event, unknown, detail = _coded_event(code, date, source, detail)
        return Row(number, ids, code, date, event, unknown, detail, source)
    body = {"type": kind, "date": date, "code": code, "source": source, "detail": detail}
    if cells.get("status"):
        body["status"] = cells["status"]
    try:
        event = BookEvent.model_validate({k: v for k, v in body.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return Rejected(number, f"{where}: {first['msg']}")
    return Row(number, ids, code, date, event, False, detail, source)


def parse(fmt: str, text: str) -> Parsed:
    """Parse ``text`` in format ``fmt`` (one of `FORMATS`).

    Raises
    ------
    ValueError
        For a format not in `FORMATS`.
    """
    if fmt == "uspto-maintfee":
        return parse_maintfee(text.splitlines())
    if fmt == "csv":
        return parse_csv(text)
    raise ValueError(f"format must be one of {', '.join(FORMATS)}; got {fmt!r}")


def match_key(ids: Mapping[str, str]) -> list[str]:
    """The keys under which a row's asset is looked up: ``asset_id:<id>`` and
    ``number:<normalised>`` for each external id (see `asset_keys`)."""
    keys = [f"asset_id:{ids['asset_id']}"] if "asset_id" in ids else []
    keys += [f"number:{normalise_number(v)}" for k, v in ids.items() if k != "asset_id"]
    return keys


def asset_keys(asset_id: str, external_ids: Mapping[str, str | None]) -> list[str]:
    """The keys a kept asset is found by (its id and each of its external ids)."""
    keys = [f"asset_id:{asset_id}"]
    keys += [
        f"number:{normalise_number(v)}" for k, v in external_ids.items() if v and k in ID_FIELDS
    ]
    return keys
