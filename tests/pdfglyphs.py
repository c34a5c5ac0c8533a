"""Which glyphs a PDF draws, read back from its content streams and embedded
fonts: every glyph id shown must exist in the embedded font and not be
.notdef (glyph 0), the box a missing character is drawn with."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader


@dataclass(frozen=True)
class BadGlyph:
    page: int
    font: str
    glyph: int
    why: str


def _valid_ids(font) -> tuple[set[int] | None, int]:
    """(valid CIDs, byte width of a code) of a PDF font; None: no check possible."""
    from fontTools.cffLib import CFFFontSet
    from fontTools.ttLib import TTFont

    if font.get("/Subtype") != "/Type0":
        return None, 1
    descendant = font["/DescendantFonts"][0].get_object()
    descriptor = descendant["/FontDescriptor"].get_object()
    if "/FontFile2" in descriptor:
        count = TTFont(io.BytesIO(descriptor["/FontFile2"].get_object().get_data()))["maxp"].numGlyphs
        return set(range(count)), 2
    if "/FontFile3" in descriptor:
        data = descriptor["/FontFile3"].get_object().get_data()
        if data[:4] in (b"OTTO", b"\0\1\0\0"):
            count = TTFont(io.BytesIO(data))["maxp"].numGlyphs
            return set(range(count)), 2
        cff = CFFFontSet()
        cff.decompile(io.BytesIO(data), None)
        top = cff.topDictIndex[0]
        names = top.charset
        if hasattr(top, "ROS"):
            return {0 if name == ".notdef" else int(name[3:]) for name in names}, 2
        return set(range(len(names))), 2
    return None, 2


_TOKENS = re.compile(rb"/([^\s/\[\]<>()]+)\s+[-\d.]+\s+Tf|\[([^\]]*)\]\s*TJ|<([0-9A-Fa-f]*)>\s*Tj|/([^\s/\[\]<>()]+)\s+Do")


def bad_glyphs(path: Path) -> tuple[list[BadGlyph], int]:
    """Glyphs shown that are .notdef or not in their embedded font; and how
    many glyphs were checked. Reads the text operators as WeasyPrint writes
    them (hex strings in TJ arrays)."""
    reader = PdfReader(path)
    bad: list[BadGlyph] = []
    checked = 0
    cache: dict[int, tuple[set[int] | None, int]] = {}

    def walk(data: bytes, resources, page_index):
        nonlocal checked
        fonts = resources.get("/Font", {}) if resources else {}
        xobjects = resources.get("/XObject", {}) if resources else {}
        current = None
        for match in _TOKENS.finditer(data):
            font, array, single, xobject = match.groups()
            if font is not None:
                ref = fonts["/" + font.decode()]
                key = ref.idnum if hasattr(ref, "idnum") else id(ref)
                if key not in cache:
                    cache[key] = _valid_ids(ref.get_object())
                current = (font.decode(), *cache[key])
            elif xobject is not None:
                target = xobjects.get("/" + xobject.decode())
                target = target.get_object() if target is not None else None
                if target is not None and target.get("/Subtype") == "/Form":
                    walk(target.get_data(), target.get("/Resources"), page_index)
            elif current is not None:
                name, valid, width = current
                for hexes in re.findall(rb"<([0-9A-Fa-f]*)>", array) if array is not None else [single]:
                    raw = bytes.fromhex(hexes.decode())
                    for start in range(0, len(raw) - width + 1, width):
                        glyph = int.from_bytes(raw[start:start + width], "big")
                        checked += 1
                        if glyph == 0:
                            bad.append(BadGlyph(page_index, name, glyph, ".notdef"))
                        elif valid is not None and glyph not in valid:
                            bad.append(BadGlyph(page_index, name, glyph, "not in the embedded font"))

    for index, page in enumerate(reader.pages):
        contents = page.get_contents()
        if contents is not None:
            walk(contents.get_data(), page.get("/Resources"), index)
    return bad, checked
