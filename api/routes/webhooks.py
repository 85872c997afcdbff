"""Webhook subscriptions: ``POST /v1/webhooks`` and ``GET /v1/webhooks/{id}/deliveries``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import Blueprint, current_app, request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ipvalue.api.auth import current_tenant
from ipvalue.api.body import json_body
from ipvalue.api.openapi import operation
from ipvalue.api.pagination import parse_page
from ipvalue.api.webhooks import deliveries, get_hook, subscribe

bp = Blueprint("webhooks", __name__, url_prefix="/v1/webhooks")


class WebhookBody(BaseModel):
    """Body of ``POST /v1/webhooks``: where to deliver, and which events."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2000, description="http:// or https:// URL")
    events: list[Literal["alert.raised", "monitoring.completed"]] = Field(
        min_length=1, max_length=2
    )
    description: Annotated[str, Field(max_length=500)] | None = None

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or " " in value:
            raise ValueError("must be an http:// or https:// URL without spaces")
        return value


@bp.post("")
@operation(request=WebhookBody, status=201, tags=["book"], record=False)
def create_webhook() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Subscribe a URL to ``alert.raised`` and ``monitoring.completed``; the answer's ``secret``
    (shown once) signs every delivery: ``X-Ipvalue-Signature: sha256=<hex HMAC-SHA256 of the raw
    body>``. The URL must reach a public address: a host resolving to a loopback, link-local,
    private, multicast, unspecified or cloud metadata address is refused (422 on ``url``)."""
    body = WebhookBody.model_validate(json_body())
    engine = current_app.extensions["ipvalue.engine"]
    allow = bool(current_app.config["WEBHOOK_ALLOW_PRIVATE"])
    hook = subscribe(engine, current_tenant(), body.url, list(body.events), allow)
    return hook, 201, {"Location": f"/v1/webhooks/{hook['id']}"}


@bp.get("/<hook_id>")
@operation(tags=["book"], record=False)
def read_webhook(hook_id: str) -> dict[str, Any]:
    """A subscription (without its secret)."""
    return get_hook(current_app.extensions["ipvalue.engine"], current_tenant(), hook_id)


@bp.get("/<hook_id>/deliveries")
@operation(tags=["book"], record=False, errors=[422])
def list_deliveries(hook_id: str) -> dict[str, Any]:
    """The subscription's delivery log, newest first: status (pending, delivered, failed),
    attempts, the last answer's status or error, the next attempt, the body sent."""
    page = parse_page(request.args)
    engine = current_app.extensions["ipvalue.engine"]
    return deliveries(engine, current_tenant(), hook_id, page)
