"""The console in a real headless browser (Debian's Chromium driven by Playwright): sign in,
value the README's patent through the form (its method select showing that method's fields),
see the chart, open the report, download the PDF
and read its text. Screenshots of the pages go to the test's tmp folder.

Needs ``chromium`` (``apt install chromium``) and the ``playwright`` package (a dev
dependency; its own browser download is not used). Without them the test skips with that
message locally and fails under ``CI=true``, where ``.ci/run`` installs the browser.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import key_for
from pypdf import PdfReader
from werkzeug.serving import make_server

from ipvalue.api.documents.numbers import money

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _need(what: str) -> None:
    message = f"the browser test needs {what}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def live(app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


def test_a_person_values_the_patent_and_downloads_the_pdf(
    app: Any, live: str, tmp_path: Path
) -> None:
    if CHROMIUM is None:
        _need("Chromium: apt install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need("the playwright package: pip install -e '.[dev]'")
    key = key_for(app)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_context(accept_downloads=True).new_page()
        page.goto(f"{live}/console/")
        page.fill("#key", key)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live}/console/")
        page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
        page.click("text=Value an asset")
        page.screenshot(path=str(tmp_path / "form.png"), full_page=True)
        # the method select shows that method's inputs only (the script hides the others)
        royalty = page.locator('[name="m0.relief_from_royalty.royalty_rate"]')
        option = page.locator('[name="m0.real_option.underlying_value"]')
        assert royalty.is_visible() and not option.is_visible()
        page.select_option('[name="m0.method"]', "real_option")
        assert option.is_visible() and not royalty.is_visible()
        page.select_option('[name="m0.method"]', "relief_from_royalty")
        page.click("#value")
        page.wait_for_url(re.compile(r".*/console/valuations/[0-9a-f-]+$"))
        point = page.inner_text("#point")
        frame = page.frame_locator("iframe.report")
        frame.locator("img.chart").first.wait_for()
        assert frame.locator("img.chart").count() >= 2  # histogram and tornado
        page.screenshot(path=str(tmp_path / "valuation.png"), full_page=True)
        with page.expect_download() as caught:
            page.click("text=Download PDF")
        pdf_path = tmp_path / "report.pdf"
        caught.value.save_as(str(pdf_path))
        browser.close()
    text = re.sub(
        r"\s+",
        " ",
        "".join(pg.extract_text() for pg in PdfReader(io.BytesIO(pdf_path.read_bytes())).pages),
    )
    record_id = None
    valuations = (
        app.test_client()
        .get("/v1/valuations", headers={"Authorization": f"Bearer {key}"})
        .get_json()["items"]
    )
    record_id = valuations[0]["id"]
    record = (
        app.test_client()
        .get(f"/v1/valuations/{record_id}", headers={"Authorization": f"Bearer {key}"})
        .get_json()
    )
    assert money(record["value"]["point"], record["currency"]) == point
    assert point in text
    assert money(record["distribution"]["p05"], record["currency"]) in text
    html = (
        app.test_client()
        .get(f"/v1/valuations/{record_id}/report", headers={"Authorization": f"Bearer {key}"})
        .get_data(as_text=True)
    )
    (digest,) = set(re.findall(r"[0-9a-f]{64}", html))
    assert digest in text.replace(" ", "")
    assert (tmp_path / "valuation.png").stat().st_size > 10_000
