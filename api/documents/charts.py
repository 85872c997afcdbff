"""The documents' charts, drawn with matplotlib (Agg, no pyplot state, so threads may share it).

Each function returns a PNG (bytes) sized for an A4 column: the value histogram with p05, p50,
p95 and their intervals, the sensitivity tornado, and the collateral fan over the loan term
with the loan amount and the value at which the LTV cap binds, and a portfolio's ranked value
ranges (p05 to p95 with the median and today's value). Axis labels carry units.
Chinese labels use the bundled ``fonts/ipvalue-cjk-sc.ttf`` (Noto Sans CJK SC cut to GB 2312,
SIL OFL; `ipvalue.api.documents.fonts`).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from typing import Any

from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ipvalue.api.documents.fonts import CJK_FAMILY, CJK_FONT

WIDTH_IN, HEIGHT_IN, DPI = 6.3, 3.0, 130
_CJK_FAMILY = CJK_FAMILY
_fonts_lock = threading.Lock()
_cjk_added = False


def _family(lang: str) -> list[str]:
    """The font family list for ``lang`` (the CJK font also stands behind Latin text, for
    Chinese names in English documents), registering the CJK font on first use."""
    global _cjk_added
    with _fonts_lock:
        if not _cjk_added:
            font_manager.fontManager.addfont(str(CJK_FONT))
            _cjk_added = True
    return [CJK_FAMILY, "DejaVu Sans"] if lang == "zh" else ["DejaVu Sans", CJK_FAMILY]


def _figure(height: float = HEIGHT_IN) -> tuple[Figure, Any]:
    figure = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    figure.subplots_adjust(
        left=0.3 if height != HEIGHT_IN else 0.12, right=0.97, bottom=0.6 / height + 0.02, top=0.96
    )
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.tick_params(labelsize=8)
    return figure, axes


def _png(figure: Figure) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def _thousands(value: float, _position: int) -> str:
    return f"{value:,.0f}"


def _style(axes: Any, lang: str) -> None:
    family = _family(lang)
    for label in (axes.xaxis.label, axes.yaxis.label, axes.title):
        label.set_fontfamily(family)
    for tick in axes.get_xticklabels() + axes.get_yticklabels():
        tick.set_fontfamily(family)
    legend = axes.get_legend()
    if legend is not None:
        for text in legend.get_texts():
            text.set_fontfamily(family)


def histogram(
    edges: Sequence[float],
    counts: Sequence[int],
    quantiles: dict[str, dict[str, float]],
    labels: dict[str, str],
    lang: str,
) -> bytes:
    """The simulated value distribution.

    Parameters
    ----------
    edges, counts : sequence
        Histogram bin edges (money, ``len(counts) + 1``) and path counts per bin.
    quantiles : dict
        ``{"p05": {"value", "ci_low", "ci_high"}, ...}``; p05, p50 and p95 are drawn as lines
        with their 95 % intervals shaded.
    labels : dict
        ``x`` and ``y`` axis labels (with units) and a label per quantile.
    """
    figure, axes = _figure()
    total = max(sum(counts), 1)
    shares = [100 * c / total for c in counts]
    axes.stairs(shares, edges, fill=True, color="#9bb7d4")
    for name, colour in (("p05", "#b2182b"), ("p50", "#222222"), ("p95", "#2166ac")):
        q = quantiles.get(name)
        if not q:
            continue
        axes.axvspan(q["ci_low"], q["ci_high"], color=colour, alpha=0.15, linewidth=0)
        axes.axvline(q["value"], color=colour, linewidth=1.2, label=labels[name])
    axes.xaxis.set_major_formatter(FuncFormatter(_thousands))
    axes.set_xlabel(labels["x"], fontsize=8)
    axes.set_ylabel(labels["y"], fontsize=8)
    axes.legend(fontsize=7, frameon=False)
    _style(axes, lang)
    return _png(figure)


def tornado(rows: Sequence[tuple[str, float]], labels: dict[str, str], lang: str) -> bytes:
    """Inputs ranked by their rank correlation with the value, largest on top.

    Parameters
    ----------
    rows : sequence of (str, float)
        ``(input, rank correlation)``; correlations in [-1, 1].
    """
    height = max(1.4, 0.35 * len(rows) + 0.8)
    figure, axes = _figure(height)
    ordered = sorted(rows, key=lambda row: abs(row[1]))
    names = [name for name, _ in ordered]
    values = [value for _, value in ordered]
    colours = ["#2166ac" if v >= 0 else "#b2182b" for v in values]
    axes.barh(range(len(values)), values, color=colours)
    axes.set_yticks(range(len(values)), names, fontsize=7)
    axes.axvline(0, color="#444444", linewidth=0.8)
    axes.set_xlim(-1, 1)
    axes.set_xlabel(labels["x"], fontsize=8)
    _style(axes, lang)
    return _png(figure)


def fan(
    times: Sequence[float],
    bands: dict[str, Sequence[float]],
    loan_amount: float | None,
    ltv_cap_value: float | None,
    labels: dict[str, str],
    lang: str,
) -> bytes:
    """The collateral value over the loan term: 5-95 % and 25-75 % bands and the median.

    Parameters
    ----------
    times : sequence of float
        Years from the valuation date.
    bands : dict
        Value quantiles per time (money): keys ``p05``, ``p25``, ``p50``, ``p75``, ``p95`` as
        present.
    loan_amount : float, optional
        Drawn as a horizontal line (money).
    ltv_cap_value : float, optional
        loan / max LTV: the value below which the LTV cap is breached (money).
    """
    figure, axes = _figure()
    if "p05" in bands and "p95" in bands:
        axes.fill_between(times, bands["p05"], bands["p95"], color="#c6dbef", label=labels["b90"])
    if "p25" in bands and "p75" in bands:
        axes.fill_between(times, bands["p25"], bands["p75"], color="#6baed6", label=labels["b50"])
    if "p50" in bands:
        axes.plot(times, bands["p50"], color="#08306b", linewidth=1.2, label=labels["median"])
    if loan_amount:
        axes.axhline(loan_amount, color="#b2182b", linewidth=1.0, label=labels["loan"])
    if ltv_cap_value:
        axes.axhline(
            ltv_cap_value, color="#b2182b", linewidth=1.0, linestyle="--", label=labels["cap"]
        )
    axes.yaxis.set_major_formatter(FuncFormatter(_thousands))
    axes.set_xlabel(labels["x"], fontsize=8)
    axes.set_ylabel(labels["y"], fontsize=8)
    axes.set_ylim(bottom=0)
    axes.legend(fontsize=7, frameon=False, loc="upper left")
    _style(axes, lang)
    return _png(figure)


def ranges(
    rows: Sequence[tuple[str, float, float, float, float]],
    labels: dict[str, str],
    lang: str,
) -> bytes:
    """Ranked value ranges at the horizon: a bar from p05 to p95, the median and today's value
    of each asset, rank 1 on top.

    Parameters
    ----------
    rows : sequence of (str, float, float, float, float)
        ``(asset, p05, p50, p95, value today)`` in rank order (money).
    labels : dict
        ``x`` axis label (with the currency), ``range``, ``median`` and ``value`` legend labels.
    """
    height = max(1.6, 0.28 * len(rows) + 1.0)
    figure, axes = _figure(height)
    positions = list(range(len(rows)))[::-1]
    low = [row[1] for row in rows]
    axes.barh(
        positions,
        [row[3] - row[1] for row in rows],
        left=low,
        height=0.55,
        color="#9bb7d4",
        label=labels["range"],
    )
    axes.scatter(
        [row[2] for row in rows], positions, color="#08306b", s=12, zorder=3, label=labels["median"]
    )
    axes.scatter(
        [row[4] for row in rows],
        positions,
        color="#b2182b",
        marker="|",
        s=90,
        zorder=3,
        label=labels["value"],
    )
    axes.set_yticks(positions, [row[0] for row in rows], fontsize=7)
    axes.xaxis.set_major_formatter(FuncFormatter(_thousands))
    axes.set_xlim(left=0)
    axes.set_xlabel(labels["x"], fontsize=8)
    figure.subplots_adjust(top=1 - 0.35 / height)
    axes.legend(fontsize=7, frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3)
    _style(axes, lang)
    return _png(figure)
