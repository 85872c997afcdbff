"""Reading and validating request bodies."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel
from werkzeug.exceptions import BadRequest

T = TypeVar("T", bound=BaseModel)


class NotJSON(BadRequest):
    """The body is not a JSON object."""

    description = "the body must be a JSON object (Content-Type: application/json)"


def json_body() -> dict[str, Any]:
    """The request body as a JSON object, or a 400 problem saying why not."""
    data = request.get_json(silent=True, force=True)
    if data is None:
        raise NotJSON()
    if not isinstance(data, dict):
        raise NotJSON(description=f"the body must be a JSON object, not a {type(data).__name__}")
    return data


def parse(model: type[T]) -> T:
    """Validate the JSON body against ``model`` (pydantic errors become 422 problem+json)."""
    return model.model_validate(json_body())
