"""Word documents (.docx) -> Markdown manuscripts, for `pipeline import`.

mammoth reads the document into plain semantic HTML (headings by their Word
styles, lists, tables, footnotes, links, images; no fonts or colours), and
markdownify writes that HTML as Markdown. mammoth's own Markdown output is
deprecated and drops tables; markdownify keeps them as pipe tables. Between
the two, on the HTML tree, what Markdown says in its own syntax is put in
place: footnotes become `[^n]` notes, the document's title leaves the body
for the front matter, and the images become files of the book's images/
folder.

Every sentence is kept as written: text is escaped wherever Markdown would
read it as syntax (`*`, `_`, `#`, `1.` at a paragraph's start, `<`, `$`...),
so the rendered text is the document's text.

What a document may carry is untrusted: its embedded style map (which could
map paragraphs onto any HTML) is not read, nor are linked (external) images;
the HTML is Markdown's only input, and the Markdown is sanitised at render
like any manuscript's.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

from ..diagnostics import Diagnostic, error, warning
from ..load.manuscripts import slugify

# Word's own styles for a title, a subtitle and quotations, which mammoth's
# default map leaves as plain paragraphs.
STYLE_MAP = """
p[style-name='Title'] => h1.doc-title:fresh
p[style-name='Subtitle'] => p.doc-subtitle:fresh
p[style-name='Quote'] => blockquote > p:fresh
p[style-name='Intense Quote'] => blockquote > p:fresh
"""
IMAGE_SUFFIXES = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp",
                  "image/svg+xml": ".svg"}
SHOWN_MESSAGES = 5  # mammoth's distinct messages named in the one warning about them
_NOTE = "\ue000{}\ue001"  # a footnote call while markdownify runs: characters it leaves alone
_NOTE_MARK = re.compile("\ue000([0-9]+)\ue001")
_BACK_LINKS = ".//a[starts-with(@href, '#footnote-ref-') or starts-with(@href, '#endnote-ref-')]"


@dataclass(frozen=True)
class Word:
    """A Word document read: front-matter values, the Markdown body, and
    the images the body names (path relative to the book -> bytes)."""

    title: str  # the Title paragraph, or a first `#` heading that is the only one; '' if neither
    subtitle: str
    body: str
    lead: str  # the first paragraph's text, for a provisional title
    images: tuple[tuple[str, bytes], ...] = ()


def convert_docx(raw: bytes, source: Path) -> tuple[Word | None, list[Diagnostic]]:
    """Read a .docx into a `Word`; None (I009) if it is no Word document, or
    I002 if it holds no text."""
    import mammoth

    images = _Images(slugify(source.stem) or "image")
    try:
        result = mammoth.convert_to_html(io.BytesIO(raw), style_map=STYLE_MAP, include_embedded_style_map=False,
                                         convert_image=mammoth.images.img_element(images.save))
    except Exception as exc:  # noqa: BLE001 - a damaged zip or XML fails in many ways inside mammoth
        return None, [error("I009", f"'{source.name}' cannot be read as a Word document "
                                    f"({type(exc).__name__}: {str(exc)[:120] or 'no detail'})", path=source,
                            hint="open it in Word or LibreOffice and save it again as .docx")]
    diagnostics = _messages(result.messages, source) + images.refused(source)
    word = _from_html(result.value, images.kept)
    if not (word.body.strip() or word.title):
        return None, diagnostics + [error("I002", "the Word document holds no text", path=source, line=1, column=1,
                                          hint="check that this is the article's file and that it was saved")]
    return word, diagnostics


class _Images:
    """mammoth's image callback: each image a file `images/<stem>-<digest>.<ext>`,
    named by its content (the same image imported again is the same file)."""

    def __init__(self, stem: str) -> None:
        self.stem, self.kept, self.left_out = stem, {}, []

    def save(self, image) -> dict[str, str]:
        with image.open() as stream:
            data = stream.read()
        suffix = IMAGE_SUFFIXES.get(image.content_type)
        if suffix is None:
            data, suffix = _as_png(data)
        if suffix is None:
            self.left_out.append(f"{image.content_type or 'an unknown type'}"
                                 + (f" ('{image.alt_text}')" if image.alt_text else ""))
            return {"src": ""}
        name = f"images/{self.stem}-{hashlib.sha256(data).hexdigest()[:10]}{suffix}"
        self.kept[name] = data
        return {"src": name}

    def refused(self, source: Path) -> list[Diagnostic]:
        return [warning("I010", f"an image of '{source.name}' was left out: {kind} is no format a book can show",
                        hint="save the picture as PNG or JPEG in Word (or export it), import the document again",
                        path=source) for kind in self.left_out]


def _as_png(data: bytes) -> tuple[bytes, str | None]:
    """A raster image of another type (BMP, TIFF) as PNG; (data, None) when
    Pillow cannot read it (EMF and WMF need a renderer we do not have)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as picture:
            picture.load()
            out = io.BytesIO()
            picture.save(out, "PNG")
            return out.getvalue(), ".png"
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return data, None


def _messages(messages, source: Path) -> list[Diagnostic]:
    """mammoth's warnings (a style it maps to nothing...) folded into one:
    the text is kept, as plain paragraphs or runs."""
    distinct = list(dict.fromkeys(message.message for message in messages))
    if not distinct:
        return []
    more = f" and {len(distinct) - SHOWN_MESSAGES} more" if len(distinct) > SHOWN_MESSAGES else ""
    return [warning("I010", f"'{source.name}': {'; '.join(distinct[:SHOWN_MESSAGES])}{more}", path=source,
                    hint="the text is kept; where a Word style of its own marked a heading or a list, "
                         "make it one in the manuscript")]


def _from_html(html: str, images: dict[str, bytes]) -> Word:
    """The Word of mammoth's HTML: title and subtitle out, headings one
    level down when the body has several `#` headings, footnotes as notes."""
    from lxml import html as lxml_html

    root = lxml_html.fragment_fromstring(html or "<p></p>", create_parent="div")
    for image in root.iter("img"):
        if not image.get("src"):
            image.drop_tree()
    title, subtitle = _take_title(root), _take(root, "p", "doc-subtitle")
    if root.find("h1") is not None:  # sections at Word's Heading 1: `##` under the article's title
        for heading in root.iter("h1", "h2", "h3", "h4", "h5"):
            heading.tag = f"h{int(heading.tag[1]) + 1}"
    notes = _notes(root)
    paragraphs = (" ".join(_NOTE_MARK.sub("", p.text_content()).split()) for p in root.iter("p"))
    lead = next((text for text in paragraphs if text), "")
    body = _markdown(lxml_html.tostring(root, encoding="unicode"))
    body = _NOTE_MARK.sub(lambda mark: f"[^{mark.group(1)}]", body)
    definitions = [f"[^{number}]: " + text.replace("\n", "\n    ") for number, text in notes]
    body = "\n\n".join([body, *definitions]).strip()
    used = {name: data for name, data in images.items() if name in body}
    return Word(title, subtitle, body, lead, tuple(used.items()))


def _take_title(root) -> str:
    """The document's title: its Title paragraph, else its first block when
    that is its only `#` heading; removed from the body."""
    title = _take(root, "h1", "doc-title")
    if title:
        return title
    first, headings = (root[0] if len(root) else None), root.findall("h1")
    if first is not None and first.tag == "h1" and len(headings) == 1:
        title = " ".join(first.text_content().split())
        first.drop_tree()
    return title


def _take(root, tag: str, class_name: str) -> str:
    found = root.find(f"{tag}[@class='{class_name}']")
    if found is None:
        return ""
    text = " ".join(found.text_content().split())
    found.drop_tree()
    return text


def _notes(root) -> list[tuple[int, str]]:
    """Footnotes and endnotes (mammoth: a `<sup><a href="#footnote-1">` call,
    an `<ol>` of `<li id="footnote-1">` at the end) as Markdown notes,
    numbered in the order they are called: the calls become marks, the
    list's items Markdown text without their back links."""
    from lxml import html as lxml_html

    numbers: dict[str, int] = {}
    for call in root.xpath(".//sup[a[starts-with(@href, '#footnote-') or starts-with(@href, '#endnote-')]]"):
        target = call.find("a").get("href")[1:]
        number = numbers.setdefault(target, len(numbers) + 1)
        mark = call.getparent().makeelement("span")
        mark.text, mark.tail = _NOTE.format(number), call.tail
        call.getparent().replace(call, mark)
    notes = []
    for item in root.xpath(".//li[starts-with(@id, 'footnote-') or starts-with(@id, 'endnote-')]"):
        for back in item.xpath(_BACK_LINKS):
            back.drop_tree()
        inner = "".join(lxml_html.tostring(child, encoding="unicode") for child in item)
        text = _markdown(inner or (item.text or "")).strip()
        if item.get("id") in numbers:
            notes.append((numbers[item.get("id")], text))
        listing = item.getparent()
        item.drop_tree()
        if listing is not None and not len(listing):
            listing.drop_tree()
    return sorted(notes)


def _markdown(html: str) -> str:
    """markdownify with everything that could read as syntax escaped, ATX
    headings, '-' bullets and a first table row read as the header."""
    from markdownify import MarkdownConverter

    class Converter(MarkdownConverter):
        def escape(self, text, parent_tags):
            return super().escape(text, parent_tags).replace("$", "\\$")

    text = Converter(heading_style="ATX", bullets="-", escape_misc=True, table_infer_header=True,
                     keep_inline_images_in=["td", "th", "p"]).convert(html)
    text = re.sub(r"(?m)^([ \t]*):(\s)", r"\1&#58;\2", text)  # ': ' opens a definition after a paragraph
    return re.sub(r"\n{3,}", "\n\n", text).strip()
