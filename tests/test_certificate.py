"""The guarantee certificate of a pledge loan (GET /v1/loans/{id}/report), built on the loan's
latest monitoring; golden tests on the numbers it prints, read back from the PDF's text."""

from __future__ import annotations

import io
import re
from typing import Any

from pypdf import PdfReader
from test_book_monitoring import loan, make_asset, run

from ipvalue.api.documents.numbers import money


def _pdf_text(data: bytes) -> str:
    return re.sub(
        r"\s+", " ", "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    )


def _monitored(client: Any) -> dict[str, Any]:
    a = make_asset(client)
    b = make_asset(client, name="B", number="8000001")
    made = loan(client, a["id"], b["id"])
    run(client)
    return dict(client.get(f"/v1/loans/{made['id']}").get_json())


def test_the_certificate_prints_the_latest_monitoring(client: Any) -> None:
    shown = _monitored(client)
    monitoring = shown["monitoring"]
    currency = shown["currency"]
    answer = client.get(f"/v1/loans/{shown['id']}/report?format=pdf")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    text = _pdf_text(answer.data)
    collateral = monitoring["collateral"]
    for figure in (shown["amount"], monitoring["value"], collateral["max_loan"]):
        assert money(figure, currency) in text, money(figure, currency)
    assert monitoring["next_revaluation_date"] in text
    html = client.get(f"/v1/loans/{shown['id']}/report").data.decode()
    (digest,) = set(re.findall(r"[0-9a-f]{64}", html))
    assert digest in text.replace(" ", "")
    check = client.get(f"/v1/records/verify?sha256={digest}").get_json()
    assert check == {"match": True, "kind": "loan_evaluation", "id": monitoring["evaluation_id"]}
    assert html.count("data:image/png;base64,") == 1  # the collateral fan
    assert "Credit committee" in html


def test_the_chinese_certificate_names_the_loan_and_its_rights(client: Any) -> None:
    shown = _monitored(client)
    text = _pdf_text(client.get(f"/v1/loans/{shown['id']}/report?format=pdf&lang=zh").data)
    assert "质押融资评估确认书" in text and "质押权利" in text
    assert money(shown["amount"], shown["currency"]) in text


def test_before_the_first_run_the_certificate_says_so(client: Any) -> None:
    a = make_asset(client)
    made = loan(client, a["id"])
    html = client.get(f"/v1/loans/{made['id']}/report").data.decode()
    assert "has not been monitored yet" in html
    assert money(made["amount"], made["currency"]) in html


def test_another_tenants_loan_and_bad_parameters(client: Any, other_client: Any) -> None:
    a = make_asset(client)
    made = loan(client, a["id"])
    assert other_client.get(f"/v1/loans/{made['id']}/report").status_code == 404
    assert client.get("/v1/loans/none/report").status_code == 404
    bad = client.get(f"/v1/loans/{made['id']}/report?lang=de")
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "lang"
