"""Shared fixtures: the app built from the factory, and a client."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from api import create_app

SHARED = Path(__file__).resolve().parents[2] / "shared"
CASES_FILE = SHARED / "reference" / "cases.json"
LOCAL_CASES_FILE = Path(__file__).parent / "reference" / "cases.json"


def load_cases() -> list[dict[str, Any]]:
    """Published worked examples: ../shared/reference/cases.json, or the copy kept in tests/."""
    path = CASES_FILE if CASES_FILE.exists() else LOCAL_CASES_FILE
    return list(json.loads(path.read_text())["cases"])


@pytest.fixture
def app():
    return create_app({"TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()
