"""Office event codes and the book event type each one means.

USPTO patent maintenance-fee events
------------------------------------
Source: USPTO, *Patent Maintenance Fee Events* (dataset EIP-5710P-OL, weekly and cumulative,
ASCII, public domain), distributed at https://data.uspto.gov/bulkdata/datasets/ptmnfee2 (formerly
https://eipweb.uspto.gov/MaintFeeEvents) as ``MaintFeeEvents_yyyymmdd.txt``, with its layout and
code list in ``MaintFeeEventsFileDocumentation.doc`` (the data dictionary the dataset names).
Each line of the file is one event, fields separated by a space:

1. patent number (utility patents as digits, with prefixes ``D`` design, ``RE`` reissue,
   ``PP`` plant; zero-padded);
2. application number (series code and serial number, 8 digits);
3. entity status when the event was entered: ``N`` undiscounted (large), ``Y`` small,
   ``M`` micro;
4. application filing date, ``YYYYMMDD``;
5. grant (issue) date, ``YYYYMMDD``;
6. event entry date, ``YYYYMMDD``;
7. event code (``M1551``, ``EXP.``, ...; the trailing dot belongs to the code).

The codes below are those of the documentation's code list that change the legal record or
name a payment. Codes with type None are administrative (entity status, payor numbers,
refunds, petitions): known, recorded by the import, with no legal effect. A code not listed is
*unknown*: the import keeps the line and reports it, never drops it, so a code the office adds
later is seen, not lost. US maintenance fees fall due 3.5, 7.5 and 11.5 years after grant, with
a six-month grace period on surcharge (35 U.S.C. 41(b); 37 CFR 1.362); an unpaid fee ends the
patent at the end of the grace period: ``EXP.`` is recorded as a *lapse* (protection ended
early), not as the statutory expiry.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OfficeCode:
    """One office event code.

    Attributes
    ----------
    code : str
        As printed in the file.
    type : str or None
        The book event type (`ipvalue.models.book.BookEventType`), None for administrative
        codes with no legal effect.
    description : str
        The office's wording (abridged).
    """

    code: str
    type: str | None
    description: str


def _table(rows: list[tuple[str, str | None, str]]) -> dict[str, OfficeCode]:
    return {code: OfficeCode(code, kind, text) for code, kind, text in rows}


_PAID = "maintenance_fee_paid"
_ENTITY = {"1": "Large Entity", "2": "Small Entity", "3": "Micro Entity"}

_MAINTFEE_ROWS: list[tuple[str, str | None, str]] = [
    ("EXP.", "lapsed", "Patent Expired for Failure to Pay Maintenance Fees"),
    ("EXPX", "reinstated", "Patent Reinstated After Maintenance Fee Payment Confirmed"),
    ("REM.", "missed_maintenance_fee", "Maintenance Fee Reminder Mailed"),
    ("ASPN", None, "Payor Number Assigned"),
    ("RMPN", None, "Payer Number De-assigned"),
    ("BIG.", None, "Entity status set to Undiscounted"),
    ("SMAL", None, "Entity status set to Small"),
    ("MICR", None, "Entity status set to Micro"),
    ("LTOS", None, "Pat Holder Claims Small Entity Status"),
    ("STOL", None, "Pat Hldr no Longer Claims Small Ent Stat"),
    ("F169", None, "Payment is in Excess of Amount Required. Refund Scheduled"),
    ("F170", None, "Payment is in Excess of Amount Required. Refund Scheduled"),
    ("PMFP", None, "Petition Related to Maintenance Fees Filed"),
    ("PMFG", None, "Petition Related to Maintenance Fees Granted"),
    ("PMFD", None, "Petition Related to Maintenance Fees Dismissed"),
    ("M170", _PAID, "Payment of Maintenance Fee, 4th Year, PL 96-517"),
    ("M171", _PAID, "Payment of Maintenance Fee, 8th Year, PL 96-517"),
    ("M172", _PAID, "Payment of Maintenance Fee, 12th Year, PL 96-517"),
    ("M173", _PAID, "Payment of Maintenance Fee, 4th Year, PL 97-247"),
    ("M174", _PAID, "Payment of Maintenance Fee, 8th Year, PL 97-247"),
    ("M175", _PAID, "Payment of Maintenance Fee, 12th Year, PL 97-247"),
    ("M176", _PAID, "Surcharge for Late Payment, PL 96-517"),
    ("M177", _PAID, "Surcharge for Late Payment, PL 97-247"),
    ("M183", _PAID, "Payment of Maintenance Fee, 4th Year, Large Entity"),
    ("M184", _PAID, "Payment of Maintenance Fee, 8th Year, Large Entity"),
    ("M185", _PAID, "Payment of Maintenance Fee, 12th Year, Large Entity"),
    ("M186", _PAID, "Surcharge for Late Payment, Large Entity"),
    ("M273", _PAID, "Payment of Maintenance Fee, 4th Year, Small Entity"),
    ("M274", _PAID, "Payment of Maintenance Fee, 8th Year, Small Entity"),
    ("M275", _PAID, "Payment of Maintenance Fee, 12th Year, Small Entity"),
    ("M277", _PAID, "Surcharge for Late Payment, Small Entity"),
]
for _digit, _entity in _ENTITY.items():
    _MAINTFEE_ROWS += [
        (f"M{_digit}551", _PAID, f"Payment of Maintenance Fee, 4th Year, {_entity}"),
        (f"M{_digit}552", _PAID, f"Payment of Maintenance Fee, 8th Year, {_entity}"),
        (f"M{_digit}553", _PAID, f"Payment of Maintenance Fee, 12th Year, {_entity}"),
        (f"M{_digit}554", _PAID, f"Surcharge for Late Payment, {_entity}"),
        (f"M{_digit}555", _PAID, f"7.5 yr surcharge - late pmt w/in 6 mo, {_entity}"),
        (f"M{_digit}556", _PAID, f"11.5 yr surcharge - late pmt w/in 6 mo, {_entity}"),
        (f"M{_digit}558", None, f"Surcharge, Petition to Accept Pymt After Exp, {_entity}"),
    ]

USPTO_MAINTFEE: dict[str, OfficeCode] = _table(_MAINTFEE_ROWS)
"""USPTO maintenance-fee event codes (see the module docstring for the source)."""

SOURCE_USPTO_MAINTFEE = "uspto-maintfee"
"""The ``source`` of events read from a USPTO maintenance-fee events file."""


def lookup(code: str, table: dict[str, OfficeCode] = USPTO_MAINTFEE) -> OfficeCode | None:
    """The office code ``code`` (exactly as printed; surrounding blanks ignored), or None when
    it is unknown."""
    return table.get(code.strip())
