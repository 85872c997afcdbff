"""HTTP API and CLI: the thin shell around the core."""

from ipvalue.api.app import create_app

__all__ = ["create_app"]
