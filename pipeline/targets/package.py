"""A built EPUB as the target checks read it: its members, package
document, content documents and stylesheets, each finding located by
member and line, and where the book's own files made what a member holds.

Stores read the EPUB file, not our model of it: so do the checks (a file
built by an older version, or changed after the build, is judged as it is).
`Sources` maps the members back to what the author wrote: a chapter
document to its manuscript, the stylesheet to the book's styles/epub.css,
a font to the book's styles/fonts/, the package's identifiers to book.toml.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from lxml import etree

if TYPE_CHECKING:
    from ..model import RenderedBook

OPF_NS = "http://www.idpf.org/2007/opf"
DC_NS = "http://purl.org/dc/elements/1.1/"
XHTML_NS = "http://www.w3.org/1999/xhtml"
EPUB_NS = "http://www.idpf.org/2007/ops"
NCX_NS = "http://www.daisy.org/z3986/2005/ncx/"
RASTER = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
FONT_SUFFIXES = (".ttf", ".otf", ".woff", ".woff2")
MAX_MEMBER = 256 * 1024 * 1024  # bytes of one member read at most (a zip bomb is not read whole)


@dataclass(frozen=True)
class Item:
    """One manifest item: its member name in the zip, media type, properties."""

    id: str
    name: str
    media_type: str
    properties: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sources:
    """Where the author wrote what the EPUB's members hold (all optional)."""

    manuscripts: dict[str, Path] = field(default_factory=dict)  # chapter member -> manuscript
    stylesheet: Path | None = None  # the book's own styles/epub.css
    fonts: Path | None = None  # the book's own styles/fonts/
    config: Path | None = None  # book.toml


def sources_of(rendered: "RenderedBook", root: str = "EPUB") -> Sources:
    """The members our EPUB exporter makes from each of the book's files
    (export/epub.py names a chapter `text/<anchor>.xhtml`)."""
    book = rendered.book
    manuscripts = {f"{root}/text/{item.anchor}.xhtml": item.article.source_path for item in rendered.articles}
    own = book.styles / "epub.css" if book.styles is not None else None
    fonts = book.styles / "fonts" if book.styles is not None else None
    return Sources(manuscripts, own if own is not None and own.is_file() else None,
                   fonts if fonts is not None and fonts.is_dir() else None, book.config_path)


class Unreadable(ValueError):
    """The file is not an EPUB the checks can read (not a zip, no package document)."""


class EpubPackage:
    """The EPUB at `path`, read lazily; `shown` is the name messages give it
    (a staged build's temporary file is shown by its final name)."""

    def __init__(self, path: Path, shown: Path | None = None):
        self.path, self.shown = Path(path), Path(shown or path)
        try:
            self.zip = zipfile.ZipFile(self.path)
        except (OSError, zipfile.BadZipFile) as exc:
            raise Unreadable(f"'{self.shown}' is not a readable EPUB (zip): {exc}") from exc
        self.names = set(self.zip.namelist())
        self.size = self.path.stat().st_size

    def close(self) -> None:
        self.zip.close()

    def read(self, name: str) -> bytes:
        info = self.zip.getinfo(name)
        if info.file_size > MAX_MEMBER:
            raise Unreadable(f"{name} is larger than {MAX_MEMBER // 1048576} MiB unpacked")
        return self.zip.read(name)

    def text(self, name: str) -> str:
        return self.read(name).decode("utf-8", errors="replace")

    @cached_property
    def opf_name(self) -> str:
        try:
            container = etree.fromstring(self.read("META-INF/container.xml"))
        except (KeyError, etree.XMLSyntaxError) as exc:
            raise Unreadable(f"'{self.shown}' has no readable META-INF/container.xml") from exc
        rootfile = container.find(".//{urn:oasis:names:tc:opendocument:xmlns:container}rootfile")
        if rootfile is None or rootfile.get("full-path") not in self.names:
            raise Unreadable(f"'{self.shown}' names no package document in META-INF/container.xml")
        return rootfile.get("full-path")

    @cached_property
    def opf(self) -> etree._Element:
        try:
            return etree.fromstring(self.read(self.opf_name))
        except etree.XMLSyntaxError as exc:
            raise Unreadable(f"{self.opf_name} is not well-formed XML: {exc}") from exc

    def resolve(self, href: str, base: str | None = None) -> str:
        """A member name for `href` relative to `base` (default: the package document)."""
        folder = posixpath.dirname(base if base is not None else self.opf_name)
        return posixpath.normpath(posixpath.join(folder, href.split("#")[0]))

    @cached_property
    def items(self) -> tuple[Item, ...]:
        return tuple(Item(element.get("id", ""), self.resolve(element.get("href", "")),
                          element.get("media-type", ""), tuple(element.get("properties", "").split()))
                     for element in self.opf.iter(f"{{{OPF_NS}}}item"))

    def items_of(self, *media_types: str) -> list[Item]:
        return [item for item in self.items if item.media_type in media_types and item.name in self.names]

    @property
    def version(self) -> str:
        return self.opf.get("version", "")

    def metadata(self, name: str, namespace: str = DC_NS) -> list[etree._Element]:
        return list(self.opf.iter(f"{{{namespace}}}{name}"))

    def properties(self, name: str) -> list[etree._Element]:
        """`<meta property="name">` elements of the package document."""
        return [meta for meta in self.opf.iter(f"{{{OPF_NS}}}meta") if meta.get("property") == name]

    @cached_property
    def documents(self) -> dict[str, etree._Element]:
        """Every XHTML content document that parses, by member name."""
        parsed = {}
        for item in self.items_of("application/xhtml+xml"):
            try:
                parsed[item.name] = etree.fromstring(self.read(item.name))
            except (etree.XMLSyntaxError, Unreadable):
                continue  # EPUBCheck reports it; the comment rule reads the text
        return parsed

    @cached_property
    def cover(self) -> Item | None:
        """The cover image: EPUB 3's properties="cover-image", else EPUB 2's <meta name="cover">."""
        for item in self.items:
            if "cover-image" in item.properties:
                return item
        meta = next((m for m in self.opf.iter(f"{{{OPF_NS}}}meta") if m.get("name") == "cover"), None)
        return next((item for item in self.items if meta is not None and item.id == meta.get("content")), None)

    def referenced_by(self, name: str) -> tuple[str, int]:
        """The first content document (and line) whose <img> or <image> shows member `name`."""
        for document, root in self.documents.items():
            for element in root.iter(f"{{{XHTML_NS}}}img", "{http://www.w3.org/2000/svg}image"):
                href = element.get("src") or element.get("{http://www.w3.org/1999/xlink}href") or element.get("href")
                if href and self.resolve(href, document) == name:
                    return document, element.sourceline or 0
        return "", 0


def line_of(text: str, offset: int) -> int:
    """The 1-based line of character `offset` in `text`."""
    return text.count("\n", 0, offset) + 1


def line_in(path: Path | None, *needles: str) -> int:
    """The first line of the file at `path` that holds every one of
    `needles` (case-insensitive), 0 if none does or it cannot be read."""
    if path is None or not needles or not all(needles):
        return 0
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
    except OSError:
        return 0
    wanted = [needle.casefold() for needle in needles]
    return next((number for number, line in enumerate(lines, start=1)
                 if all(needle in line.casefold() for needle in wanted)), 0)


def toml_key_line(path: Path | None, key: str) -> int:
    """The line of `key = …` in book.toml, 0 if it is not there."""
    if path is None:
        return 0
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return 0
    match = re.search(rf"^\s*{re.escape(key)}\s*=", text, re.MULTILINE)
    return line_of(text, match.start()) if match else 0
