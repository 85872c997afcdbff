"""A document out as HTML (a Jinja template) or PDF (that same HTML printed by xhtml2pdf).

xhtml2pdf installs with pip and needs no system library. Chinese documents embed (a subset of)
the bundled CJK font, so every viewer shows them and their text stays searchable.
"""

from __future__ import annotations

import io
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from ipvalue.api.documents.fonts import CJK_FONT

FORMATS = ("html", "pdf")
MEDIA_TYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}
_FONTS = {
    "html": {
        "en": "'DejaVu Sans', Helvetica, Arial, sans-serif",
        "zh": "'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', sans-serif",
    },
    "pdf": {"en": "Helvetica, ipvaluecjk", "zh": "ipvaluecjk"},
}

_environment = Environment(
    loader=PackageLoader("ipvalue.api.documents", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(template: str, context: dict[str, Any], fmt: str, lang: str) -> bytes:
    """The document ``template`` (e.g. ``valuation.html``) as ``fmt`` bytes.

    Parameters
    ----------
    context : dict
        The template's variables; ``title``, ``words`` and ``sha256`` are used by the base.
    fmt : {"html", "pdf"}
    lang : {"en", "zh"}
    """
    html = _environment.get_template(template).render(
        **context,
        lang=lang,
        font=_FONTS[fmt][lang],
    )
    if fmt == "pdf" and (lang == "zh" or _needs_cjk(html)):
        html = html.replace("/*font-face*/", _FONT_FACE, 1)
    if fmt == "html":
        return html.encode("utf-8")
    return html_to_pdf(html)


_FONT_FACE = f'@font-face {{ font-family: ipvaluecjk; src: url("{CJK_FONT.as_uri()}"); }}'


def _needs_cjk(text: str) -> bool:
    """Whether ``text`` has characters beyond Latin, Greek and Cyrillic (CJK and the like)."""
    return any(ord(char) > 0x2FFF for char in text)


def html_to_pdf(html: str) -> bytes:
    """Print ``html`` (the documents' restricted HTML and CSS) to A4 PDF."""
    from xhtml2pdf import pisa  # heavy import: only when a PDF is asked for
    from xhtml2pdf.files import pisaTempFile

    # xhtml2pdf spills buffers over 10 KiB (our charts) to named temporary files it never
    # closes; a document is small, so keep every buffer in memory.
    pisaTempFile.STRATEGIES = (io.BytesIO, io.BytesIO)
    out = io.BytesIO()
    status = pisa.CreatePDF(html, dest=out, encoding="utf-8")
    if status.err:
        raise RuntimeError(f"the PDF could not be printed ({status.err} errors)")
    return out.getvalue()
