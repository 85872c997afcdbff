"""Where records live. The default keeps them in memory; the service issue adds a database.

A record is immutable once saved: ``save`` never overwrites, ``get`` returns what was saved.
"""

from __future__ import annotations

import copy
import threading
import uuid
from typing import Any, Protocol

from models.errors import NotFoundError


class RecordStore(Protocol):
    """Immutable records by kind, id and tenant."""

    def save(self, kind: str, tenant: str, record: dict[str, Any]) -> str: ...

    def get(self, kind: str, tenant: str, record_id: str) -> dict[str, Any]: ...


class MemoryStore:
    """Records in a dict; for tests and the embedded default until a database is configured."""

    def __init__(self) -> None:
        self._records: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def save(self, kind: str, tenant: str, record: dict[str, Any]) -> str:
        record_id = str(uuid.uuid4())
        with self._lock:
            self._records[(kind, record_id)] = (tenant, copy.deepcopy(record))
        return record_id

    def get(self, kind: str, tenant: str, record_id: str) -> dict[str, Any]:
        with self._lock:
            found = self._records.get((kind, record_id))
        if found is None or found[0] != tenant:
            raise NotFoundError(f"no {kind} with id {record_id}")
        return copy.deepcopy(found[1])
