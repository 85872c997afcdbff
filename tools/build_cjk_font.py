"""Build ``api/documents/fonts/ipvalue-cjk-sc.ttf``: Noto Sans CJK SC cut to the characters of
GB 2312 (6,763 hanzi, symbols, Latin) and converted to TrueType outlines.

Why: the Chinese documents must embed a font (a PDF that only names a CID font shows blank text
in viewers without Asian font packs), xhtml2pdf/ReportLab embed TrueType outlines only, and the
upstream font is 16 MB of CFF outlines. The result is OFL-licensed like its source (Noto Sans
CJK SC, SIL Open Font License 1.1; see api/documents/fonts/OFL.txt), renamed as the licence
asks of a modified version.

Run once when the font should change (needs ``pip install mplfonts``, which carries the
upstream file): ``python tools/build_cjk_font.py``.
"""

from __future__ import annotations

import string
from importlib import resources
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable

OUT = Path(__file__).resolve().parents[1] / "api" / "documents" / "fonts" / "ipvalue-cjk-sc.ttf"
FAMILY = "ipvalue CJK SC"


def gb2312() -> str:
    """Every character of GB 2312 (rows 0xA1-0xF7, cells 0xA1-0xFE)."""
    chars = []
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.append(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return "".join(chars)


def to_truetype(font: TTFont) -> None:
    """Replace the CFF outlines of ``font`` by quadratic TrueType ones (fontTools' otf2ttf)."""
    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for attr in (
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
        "maxComponentDepth",
    ):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    font["head"].indexToLocFormat = 0
    font["head"].glyphDataFormat = 0
    del font["CFF "]
    if "VORG" in font:
        del font["VORG"]
    font["post"].formatType = 2.0
    font["post"].extraNames = []
    font["post"].mapping = {}
    font.sfntVersion = "\000\001\000\000"


def rename(font: TTFont) -> None:
    for record in font["name"].names:
        if record.nameID in (1, 4, 16):
            record.string = FAMILY
        elif record.nameID == 6:
            record.string = FAMILY.replace(" ", "")


def main() -> None:
    source = resources.files("mplfonts") / "fonts" / "NotoSansCJKsc-Regular.otf"
    font = TTFont(str(source))
    options = subset.Options()
    options.layout_features = []
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False
    subsetter = subset.Subsetter(options)
    latin = (
        string.printable
        + "\u00a0\u00b1\u00b7\u2013\u2014\u2018\u2019\u201c\u201d\u2026\u20ac\u00a3\u00a5"
    )
    subsetter.populate(text=gb2312() + latin + "\u3000\uff08\uff09\uff0c\uff1a\uff1b")
    subsetter.subset(font)
    to_truetype(font)
    rename(font)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    font.save(str(OUT))
    print(f"{OUT}: {len(font.getGlyphOrder())} glyphs, {OUT.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
