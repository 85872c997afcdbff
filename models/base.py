"""`Strict`: the base of every request model.

A request says what it means: unknown fields are refused (a misspelt ``volatilty`` would be
dropped), and values are not coerced from another type: ``years: true`` is not 1 year and
``years: "10"`` is not 10 (strict mode). Integers are taken where a decimal is expected.
Dates come as ``YYYY-MM-DD`` strings through `ipvalue.models.fields.IsoDate`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Base of request models: ``extra="forbid"`` and strict types."""

    model_config = ConfigDict(extra="forbid", strict=True)
