"""A website's embedded video, post or gist (`<p class="embed">`, made by
render/dialects.py) cannot play on paper: each PDF engine prints a QR code
of its address beside the link (WeasyPrint: export/pdf/booklet.py; Typst:
export/typst/markup.py), so that a reader of paper can open it with a phone.
The code is segno's SVG of paths only: no font, no script, the same bytes
for the same address."""

from __future__ import annotations

from lxml import etree

EMBED_CLASS = "embed"
MAX_ADDRESS = 1000  # characters: a longer address makes a code too dense to read from paper


def embed_address(card: etree._Element) -> str:
    """The web address an embed card links to, if it gets a code: an
    http(s) address of at most MAX_ADDRESS characters; else ""."""
    if card.tag.rpartition("}")[2] != "p" or card.get("class") != EMBED_CLASS:
        return ""
    link = next((element for element in card.iter() if element.tag.rpartition("}")[2] == "a"), None)
    address = link.get("href", "") if link is not None else ""
    return address if address.startswith(("https://", "http://")) and len(address) <= MAX_ADDRESS else ""


def qr_svg(address: str) -> bytes:
    """The QR code of `address` as an SVG (error correction M, a one-module quiet zone)."""
    import io

    import segno

    out = io.BytesIO()
    segno.make(address, error="m").save(out, kind="svg", xmldecl=False, svgns=True, border=1, scale=4)
    return out.getvalue()
