"""A record's resolved inputs stored as the difference from its request.

The inputs are the request with defaults filled and the seed fixed, so they mostly repeat it: a
1.9 MiB body would otherwise be stored twice over (plus the result). `delta` keeps only what
differs, `restore` gives the inputs back exactly.

A delta is ``{"$set": value}`` (replace), ``{"$keys": {key: delta}, "$drop": [key, ...],
"$order": [key, ...]}`` (an object: changed and removed keys, and the key order when it changed)
or ``{"$items": {"i": delta}}`` (a list of the same length: changed items); ``{}`` means the
same document (same types, same key order).
"""

from __future__ import annotations

from typing import Any

STORED = "$delta_from_request"
"""Key of a stored ``inputs`` document that is a delta from the record's request."""


def delta(base: Any, new: Any) -> dict[str, Any]:
    """What turns ``base`` into ``new`` (JSON documents); ``{}`` when they are the same."""
    if isinstance(base, dict) and isinstance(new, dict):
        keys = {k: delta(base[k], v) if k in base else {"$set": v} for k, v in new.items()}
        out: dict[str, Any] = {"$keys": {k: d for k, d in keys.items() if d}}
        dropped = [k for k in base if k not in new]
        if dropped:
            out["$drop"] = dropped
        if list(new) != [k for k in base if k in new] + [k for k in new if k not in base]:
            out["$order"] = list(new)
        return out if len(out) > 1 or out["$keys"] else {}
    if isinstance(base, list) and isinstance(new, list) and len(base) == len(new):
        items = {str(i): delta(a, b) for i, (a, b) in enumerate(zip(base, new, strict=True))}
        changed = {i: d for i, d in items.items() if d}
        return {"$items": changed} if changed else {}
    if type(base) is type(new) and not isinstance(new, dict | list) and base == new:
        return {}
    return {"$set": new}


def restore(base: Any, change: dict[str, Any]) -> Any:
    """``base`` with ``change`` (from `delta`) applied; ``base`` is not modified."""
    if not change:
        return base
    if "$set" in change:
        return change["$set"]
    if "$items" in change:
        out_list = list(base)
        for i, d in change["$items"].items():
            out_list[int(i)] = restore(out_list[int(i)], d)
        return out_list
    out = {k: v for k, v in base.items() if k not in set(change.get("$drop", ()))}
    for k, d in change["$keys"].items():
        out[k] = restore(out.get(k), d)
    if "$order" in change:
        return {k: out[k] for k in change["$order"]}
    return out
