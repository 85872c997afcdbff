"""The exception tree the core raises and the API maps to problem+json.

Every message says what to fix, e.g. ``royalty_rate must be in [0, 1]; got 1.5``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with one input field.

    Parameters
    ----------
    field : str
        Dotted path of the field in the request, e.g. ``methods[0].royalty_rate``.
    message : str
        What is wrong and how to fix it.
    """

    field: str
    message: str


class IPValueError(Exception):
    """Base of every error ipvalue raises on purpose."""

    status = 500
    title = "Internal error"
    slug = "internal"


@dataclass
class InputError(IPValueError):
    """The input cannot be valued as given; ``problems`` names each field and its fix."""

    detail: str
    problems: list[FieldProblem] = field(default_factory=list)

    status = 422
    title = "Invalid input"
    slug = "invalid-input"

    def __post_init__(self) -> None:
        super().__init__(self.detail)

    @classmethod
    def for_field(cls, field_path: str, message: str) -> InputError:
        """Build an error about a single field."""
        return cls(f"{field_path}: {message}", [FieldProblem(field_path, message)])


@dataclass
class NotFoundError(IPValueError):
    """A record that does not exist (or belongs to another tenant)."""

    detail: str

    status = 404
    title = "Not found"
    slug = "not-found"

    def __post_init__(self) -> None:
        super().__init__(self.detail)


@dataclass
class LimitExceededError(IPValueError):
    """A request larger than a configured limit; ``limit`` names it."""

    detail: str
    limit: str
    status_code: int = 422

    title = "Limit exceeded"
    slug = "limit-exceeded"

    def __post_init__(self) -> None:
        super().__init__(self.detail)
        self.status = self.status_code  # type: ignore[misc]


def field_error(title: str, loc: tuple[str | int, ...], message: str, value: Any) -> Exception:
    """A pydantic validation error at ``loc`` (relative to the model raising it).

    Raise it from a model validator so the API names the exact field: pydantic keeps the
    location and prefixes the parents' path (``legal.events[1].date``).
    """
    from pydantic import ValidationError
    from pydantic_core import InitErrorDetails, PydanticCustomError

    error = PydanticCustomError("value_error", "{message}", {"message": message})
    return ValidationError.from_exception_data(
        title, [InitErrorDetails(type=error, loc=loc, input=value)]
    )
