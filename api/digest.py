"""The SHA-256 a document prints of the stored record it shows.

The digest is taken over the record's canonical JSON: the envelope ``id``, ``kind``,
``created_at``, ``versions``, ``seed``, ``request``, ``inputs``, ``job_id`` and the ``result``
nested, as a list item shows them, serialised with sorted keys, no spaces and UTF-8
(``json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=False)``). Anyone holding
the record can recompute it; ``GET /v1/records/verify?sha256=`` finds the record it belongs to.
The store computes it once, when the record is written, and keeps it in a column.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

DIGESTED = ("id", "kind", "created_at", "versions", "seed", "request", "inputs", "job_id", "result")


def record_digest(document: dict[str, Any]) -> str:
    """Hex SHA-256 of a record's canonical JSON (the fields of `DIGESTED`).

    Parameters
    ----------
    document : dict
        A stored record as `ipvalue.api.store.SqlStore.get` returns it (``created_at`` as the
        ISO 8601 text it reads back as).
    """
    canonical = json.dumps(
        {name: document.get(name) for name in DIGESTED},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
