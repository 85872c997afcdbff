"""A volatility request validated, with pydantic's errors in the house style."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from ipvalue.models.errors import FieldProblem, InputError
from ipvalue.models.volatility import VolatilityRequest

_FIELD_PREFIX = re.compile(r"^([A-Za-z_][\w.\[\]]*): (.*)$", re.DOTALL)


def _field_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def parse_request(data: VolatilityRequest | Mapping[str, Any]) -> VolatilityRequest:
    """Validate a request, turning pydantic's errors into an :class:`InputError`.

    Raises
    ------
    InputError
        Naming each bad field (``series``, ``series[3]``, ``model``, ...) and how to fix it.
    """
    if isinstance(data, VolatilityRequest):
        return data
    try:
        return VolatilityRequest.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            message = str(err["msg"]).removeprefix("Value error, ")
            field = _field_path(tuple(err["loc"]))
            match = _FIELD_PREFIX.match(message)
            if match:
                field, message = match.group(1), match.group(2)
            problems.append(FieldProblem(field or "body", message))
        detail = "; ".join(f"{p.field}: {p.message}" for p in problems)
        raise InputError(detail, problems) from None
