"""Examples of every request body, for the OpenAPI document (`ipvalue.api.openapi`).

The bodies of ``examples/`` (the README's curl lines; ``tests/test_examples.py`` runs each)
are the examples of their endpoints, read from the installed ``ipvalue.examples`` package. The
endpoints no example file covers (the pledge book's) have theirs here, taken from the README's
walk-through. ``tests/test_openapi.py`` checks that every operation with a body has an example
and that each one is valid for the operation's request model, so none can rot. The answers
of every GET and DELETE to these bodies are recorded by `ipvalue.api.openapi_responses`.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

Example = dict[str, Any]
"""An OpenAPI Example Object: ``summary`` and ``value``."""

FILES: dict[tuple[str, str], dict[str, tuple[str, ...]]] = {
    ("post", "/v1/valuations"): {
        "application/json": (
            "patent.json",
            "valuation-income.json",
            "valuation-cost.json",
            "valuation-market.json",
            "valuation-option.json",
            "valuation-simulation.json",
            "valuation-rates.json",
            "valuation-royalty.json",
            "valuation-excess-earnings.json",
            "valuation-cost-restated.json",
            "valuation-pharma.json",
            "five_methods.json",
        )
    },
    ("post", "/v1/collateral"): {
        "application/json": ("collateral.json", "collateral-from-valuation.json")
    },
    ("post", "/v1/insurance/quotes"): {
        "application/json": (
            "insurance-collateral.json",
            "insurance-from-collateral.json",
            "insurance-litigation.json",
        )
    },
    ("post", "/v1/triggers/evaluate"): {"application/json": ("triggers.json",)},
    ("post", "/v1/portfolios/screen"): {
        "application/json": ("portfolio.json",),
        "text/csv": ("portfolio.csv",),
    },
    ("post", "/v1/volatility"): {"application/json": ("volatility.json",)},
}
"""(method, path) -> media type -> the files of ``examples/`` that are its examples."""

_LOAN = {
    "borrower": "Acme Batteries Inc.",
    "amount": 400000,
    "currency": "USD",
    "start_date": "2026-02-01",
    "term_years": 4,
    "pledged_asset_ids": ["A1", "A2"],
    "max_ltv": 0.5,
    "annual_pd": 0.03,
    "risk_sharing": {"insurer": 0.6, "guarantor": 0.2},
    "asset_correlation": 0.5,
}

INLINE: dict[tuple[str, str], dict[str, dict[str, Example]]] = {
    ("post", "/v1/assets"): {
        "application/json": {
            "patent-with-appraisal": {
                "summary": "a patent kept in the pledge book, re-valued at each monitoring",
                "value": {
                    "asset": {
                        "name": "US7654321 battery separator",
                        "kind": "patent",
                        "jurisdiction": "US",
                        "sector": "energy",
                        "legal": {
                            "status": "granted",
                            "filing_date": "2010-02-02",
                            "grant_date": "2012-06-05",
                        },
                    },
                    "external_ids": {"publication_number": "US 7,654,321 B2"},
                    "appraisal": {
                        "valuation_date": "2026-01-15",
                        "currency": "USD",
                        "methods": [
                            {
                                "method": "relief_from_royalty",
                                "revenue": {"base": 4000000, "growth": 0.03, "years": 8},
                                "royalty_rate": 0.045,
                                "tax_rate": 0.25,
                                "discount_rate": 0.16,
                            }
                        ],
                        "simulation": {"volatility": 0.35},
                    },
                },
            }
        }
    },
    ("post", "/v1/assets/{asset_id}/events"): {
        "application/json": {
            "suit-and-pledge": {
                "summary": "an infringement suit and the registration of the pledge",
                "value": {
                    "events": [
                        {
                            "type": "infringement_suit",
                            "date": "2026-03-01",
                            "source": "court",
                            "detail": "Acme v. Beta, 1:26-cv-00123",
                        },
                        {"type": "pledge_registered", "date": "2026-02-01", "source": "register"},
                    ]
                },
            }
        }
    },
    ("post", "/v1/legal-status/imports"): {
        "text/plain": {
            "uspto-maintfee": {
                "summary": "?format=uspto-maintfee: lines of the USPTO maintenance-fee events file",
                "value": "07654321 11123456 N 20100202 20120605 20251210 REM.\n"
                "07654321 11123456 N 20100202 20120605 20260608 EXP.\n"
                "08000001 12000001 N 20140301 20170101 20200701 M1551\n",
            }
        },
        "text/csv": {
            "csv": {
                "summary": "?format=csv: one event a row",
                "value": "publication_number,date,type,code,source,detail\n"
                "US 7654321 B2,2026-03-01,infringement_suit,,court,1:26-cv-00123\n"
                "US 7654321 B2,2026-06-08,,EXP.,uspto,\n",
            }
        },
    },
    ("post", "/v1/loans"): {
        "application/json": {
            "two-patents": {"summary": "a loan secured by two pledged patents", "value": _LOAN}
        }
    },
    ("put", "/v1/loans/{loan_id}"): {
        "application/json": {
            "larger-amount": {
                "summary": "the loan raised to 450,000 (a new version)",
                "value": {**_LOAN, "amount": 450000},
            }
        }
    },
    ("post", "/v1/monitoring/runs"): {
        "application/json": {
            "as-of": {
                "summary": "monitor every loan as of a date",
                "value": {"as_of": "2026-06-01"},
            }
        }
    },
    ("post", "/v1/alerts/{alert_id}/acknowledge"): {
        "application/json": {
            "seen": {
                "summary": "who saw the alert, and what follows",
                "value": {"by": "J. Smith, credit risk", "note": "revaluation ordered"},
            }
        }
    },
    ("post", "/v1/webhooks"): {
        "application/json": {
            "alerts": {
                "summary": "deliver alerts and run summaries",
                "value": {
                    "url": "https://bank.example/hooks/ipvalue",
                    "events": ["alert.raised", "monitoring.completed"],
                },
            }
        }
    },
}
"""(method, path) -> media type -> named examples, for endpoints no example file covers."""


def examples_folder() -> Path | None:
    """The folder of the installed ``ipvalue.examples`` package (``examples/``), if any."""
    try:
        import ipvalue.examples as package
    except ImportError:
        return None
    return next((Path(p) for p in package.__path__ if Path(p).is_dir()), None)


def _file_example(folder: Path, name: str) -> Example:
    text = (folder / name).read_text(encoding="utf-8")
    value: Any = json.loads(text) if name.endswith(".json") else text
    return {"summary": f"examples/{name}", "value": value}


@cache
def request_examples() -> dict[tuple[str, str], dict[str, dict[str, Example]]]:
    """(method, path) -> media type -> named examples of the request body."""
    found: dict[tuple[str, str], dict[str, dict[str, Example]]] = {
        key: {media: dict(named) for media, named in by_media.items()}
        for key, by_media in INLINE.items()
    }
    folder = examples_folder()
    if folder is None:
        return found
    for key, by_media in FILES.items():
        for media, names in by_media.items():
            found.setdefault(key, {})[media] = {
                Path(name).stem: _file_example(folder, name)
                for name in names
                if (folder / name).is_file()
            }
    return found


JOB_ACCEPTED: Example = {
    "summary": "the request runs as a job: poll its location",
    "value": {
        "job_id": "6f1d2c0a-8d4e-4b57-9a43-1f0c2b7e9d11",
        "status": "queued",
        "location": "/v1/jobs/6f1d2c0a-8d4e-4b57-9a43-1f0c2b7e9d11",
    },
}
"""The 202 answer of every operation that may run as a job."""

RESPONSES: dict[tuple[str, str, str], dict[str, Example]] = {
    ("post", "/v1/valuations", "422"): {
        "royalty-rate-out-of-range": {
            "summary": 'examples/patent.json with "royalty_rate": 4.5',
            "value": {
                "type": "https://ipvalue.dev/problems/invalid-input",
                "title": "Invalid input",
                "status": 422,
                "detail": "methods[0].royalty_rate: must be in [0, 1]; got 4.5 (rates are "
                "decimals: 0.05 means 5 %)",
                "instance": "/v1/valuations",
                "errors": [
                    {
                        "field": "methods[0].royalty_rate",
                        "message": "must be in [0, 1]; got 4.5 (rates are decimals: 0.05 "
                        "means 5 %)",
                    }
                ],
            },
        }
    },
    ("get", "/v1/records/verify", "200"): {
        "match": {
            "summary": "the SHA-256 printed on a valuation report",
            "value": {
                "match": True,
                "kind": "valuation",
                "id": "0b5e4f7e-2a9c-4c1e-8f55-3d8a6c2e1b90",
            },
        },
        "no-match": {
            "summary": "not one of your records",
            "value": {"match": False, "kind": None, "id": None},
        },
    },
}
"""(method, path, status) -> named examples of an answer (problem+json for 4xx)."""
