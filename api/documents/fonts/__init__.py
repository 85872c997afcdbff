"""The font of the Chinese documents: ``ipvalue-cjk-sc.ttf``, Noto Sans CJK SC cut to the
characters of GB 2312 with TrueType outlines (built by ``tools/build_cjk_font.py``; SIL Open
Font License 1.1, see ``OFL.txt``). Characters outside GB 2312 print as blanks."""

from __future__ import annotations

from pathlib import Path

CJK_FONT = Path(__file__).with_name("ipvalue-cjk-sc.ttf")
CJK_FAMILY = "ipvalue CJK SC"
