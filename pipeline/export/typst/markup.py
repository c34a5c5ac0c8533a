"""The sanitized XHTML of an article as Typst markup.

Typst markup is a programming language as much as a text format: `#` starts
code, `<x>` a label, `@x` a reference, `$` maths, `*`, `_`, `` ` ``, `=`,
`-`, `+` and `/` markup. The book's text is untrusted, so every character
that could mean anything is escaped with a backslash (`text`), strings are
written as Typst string literals (`string`), and every element becomes a
function call we chose: nothing of the book is ever read as Typst code.

What the render writes (pipeline/render) maps as follows: headings to
`heading` (outlined when the contents show them: class `toc-N`), footnote
calls to `footnote` holding the note (set at the foot of the call's page),
`xref` links to a link and the page of their target (the template's
`pageref`), code blocks to `raw` with their language (Typst highlights),
formulas to the SVGs the renderer drew (`Formula`), images to the copies
the exporter put in the compile root (`Images`), callouts to the template's
`callout`. An element we do not know keeps its content, as text.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from lxml import etree

from ...model import Formula
from ...styles import direction
from ...xhtml import NOTE_BACKLINK, NOTE_BLOCK, NOTE_CALL, parse_fragment
from ..embeds import embed_address, qr_svg
from ..pagebreaks import block_elements

MATH = "{http://www.w3.org/1998/Math/MathML}math"

# Characters escaped in markup. Letters, digits and spaces never are; every
# ASCII sign that markup or its shorthands give a meaning is ("--" a dash,
# "..." an ellipsis, "~" a no-break space, "1." or "/" at a line's start a
# list or a term, "http://" a link, "//" a comment).
_SPECIAL = re.compile(r"""([\\#$*_`<>@\[\]~=\-+/'".:;{}()|&%!?^,])""")
_SPACE = re.compile(r"\s+")
_LABEL_SAFE = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
_LINK_SCHEMES = ("http://", "https://", "mailto:")
_WIDTH = re.compile(r"(?:^|;)\s*width:\s*(\d{1,3}(?:\.\d+)?)%")
_LANGUAGE = re.compile(r"^([A-Za-z]{2,3})(?:-(?:[A-Za-z]{4}-)?([A-Za-z]{2}))?")

BLOCKS = {"p", "div", "section", "article", "header", "footer", "nav", "aside", "blockquote", "ul", "ol",
          "dl", "pre", "table", "figure", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "details", "summary",
          "figcaption", "caption"}


def text(value: str) -> str:
    """Book text as markup that prints exactly it: whitespace folded as
    HTML folds it, every sign escaped."""
    return _SPECIAL.sub(r"\\\1", _SPACE.sub(" ", value))


def string(value: str) -> str:
    """A Typst string literal holding `value`, whatever it holds."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") \
        .replace("\t", "\\t")
    return f'"{escaped}"'


def label(identifier: str) -> str:
    """The Typst label of an element id: the id itself when a label may
    hold it, else a hash of it (an id of any script)."""
    if _LABEL_SAFE.match(identifier):
        return f"x-{identifier}"
    return "h-" + hashlib.sha1(identifier.encode("utf-8")).hexdigest()[:16]


def language_arguments(tag: str, with_direction: bool = False) -> str:
    """`lang: "ar"` (and `region: "EG"`) for a BCP 47 tag; '' when it is none.
    `with_direction`: and `dir`, ours (styles.direction), not Typst's guess
    from the language (Typst takes Sorani Kurdish for left to right, and
    Punjabi, which is written in Gurmukhi, for right to left)."""
    match = _LANGUAGE.match(tag or "")
    if not match:
        return ""
    region = f', region: "{match.group(2).upper()}"' if match.group(2) else ""
    way = f", dir: {direction(tag)}" if with_direction else ""
    return f'lang: "{match.group(1).lower()}"{region}{way}'


@dataclass
class Images:
    """The files the compile may read, by the name it reads them by: each
    image the build resolved, and each formula's SVG, under the compile root
    (the exporter writes `files` there)."""

    files: dict[str, bytes | Path] = field(default_factory=dict)
    _names: dict[object, str] = field(default_factory=dict)

    def add(self, key: object, suffix: str, data: bytes | Path) -> str:
        if key not in self._names:
            name = f"f/{len(self._names) + 1}{suffix}"
            self._names[key] = name
            self.files[name] = data
        return self._names[key]


# Page-break markers (the EPUB's page-list): one where each block element
# begins, and one at a word boundary after at least this many letters of it,
# so that where a page begins inside a paragraph is known to about half a line.
BREAK_STEP = 40
BREAK_LABEL = "pb"  # the markers' label: `#metadata("article.block.letters")<pb>`
_ORDINAL = "data-pb"  # the block's ordinal, set on each block element before the conversion


SHORT_TABLE_ROWS = 8  # a table of up to this many rows is never split (export/pdf/booklet.py's rule)
# Image formats Typst reads.
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}


@dataclass
class Converter:
    """One article's XHTML to markup. `known`: the ids of the whole book
    that get a label (links to others are text); `emitted`: labels set so
    far (a label is set once)."""

    known: set[str]
    emitted: set[str]
    images: Images
    resources: tuple[Path, ...] = ()
    base: Path = Path(".")
    formulas: tuple[Formula, ...] = ()
    notes: dict[str, etree._Element] = field(default_factory=dict)
    note_labels: dict[str, str] = field(default_factory=dict)
    article: int | None = None  # the article's index: its body gets page-break markers (None: none)
    first_block: int = 0  # the ordinal of the body's first block (the opener's blocks come before it)
    _frames: list["_Frame | None"] = field(default_factory=list)  # the blocks being written, innermost last
    _level: int = 1  # the level of the last heading set (the article's title: 1)

    # --- blocks ------------------------------------------------------------------------

    def body(self, xhtml: str) -> str:
        root = parse_fragment(xhtml)
        for div in [d for d in root.iter("div") if d.get("class") == NOTE_BLOCK]:
            for item in div.iter("li"):
                if item.get("id"):
                    self.notes[item.get("id")] = item
            div.getparent().remove(div)
        if self.article is not None:  # numbered as pipeline.export.pagebreaks numbers the EPUB's blocks
            for ordinal, block in enumerate(block_elements(root, NOTE_BLOCK), start=self.first_block):
                block.set(_ORDINAL, str(ordinal))
        return self.flow(root)

    # --- page-break markers ----------------------------------------------------------------

    def opener_marker(self) -> str:
        """The marker of the opener's first block (where the article's first page begins)."""
        return self._marker(0, 0) if self.article is not None else ""

    def _marker(self, block: int, letters: int) -> str:
        return f'#metadata("{self.article}.{block}.{letters}")<{BREAK_LABEL}>'

    def _enter(self, element: etree._Element, words: bool = True) -> str:
        """Begin a block: its frame (letters counted, markers between its
        words when `words`), and its marker. '' for any other element."""
        ordinal = element.get(_ORDINAL)
        if ordinal is None:
            return ""
        self._frames.append(_Frame(int(ordinal), words))
        return self._marker(int(ordinal), 0)

    def _leave(self, element: etree._Element) -> None:
        if element.get(_ORDINAL) is not None:
            self._frames.pop()

    def _text(self, value: str) -> str:
        """`text(value)`, with a marker at a word boundary each BREAK_STEP
        letters of the block being written."""
        frame = self._frames[-1] if self._frames else None
        if frame is None:
            return text(value)
        folded = _SPACE.sub(" ", value)
        count = _letters(folded)
        if not frame.words or frame.letters + count - frame.marked < BREAK_STEP:  # no marker falls in it
            frame.letters += count
            return text(folded)
        out, start, end = [], 0, frame.letters + count
        while True:  # after the word where the block's letters since its last marker reach BREAK_STEP
            need = max(BREAK_STEP - (frame.letters - frame.marked), 0)
            match = _nth_letter(need).match(folded, start)
            space = folded.find(" ", match.end()) if match else -1
            if space < 0 or space + 1 == len(folded):
                break
            frame.letters += need + _letters(folded[match.end():space])
            frame.marked = frame.letters
            out += [text(folded[start:space + 1]), self._marker(frame.block, frame.letters)]
            start = space + 1
        frame.letters = end
        out.append(text(folded[start:]))
        return "".join(out)

    def _count(self, value: str) -> None:
        """Letters written otherwise than as text (code, a footnote call's number)."""
        if self._frames and self._frames[-1] is not None:
            self._frames[-1].letters += _letters(value)

    def flow(self, element: etree._Element) -> str:
        """The children of `element`: runs of inline content as paragraphs, blocks between them."""
        out: list[str] = []
        marker = self._enter(element)
        run: list[str] = [marker + self._text(element.text or "")]
        for child in element:
            if not isinstance(child.tag, str):  # a comment or processing instruction
                run.append(self._text(child.tail or ""))
                continue
            if child.tag in BLOCKS or self._is_display_math(child):
                out.append("".join(run).strip())
                out.append(self.block(child))
                run = [self._text(child.tail or "")]
            else:
                run.append(self.inline(child))
                run.append(self._text(child.tail or ""))
        out.append("".join(run).strip())
        self._leave(element)
        return "\n\n".join(part for part in out if part)

    def block(self, element: etree._Element) -> str:
        tag, classes = element.tag, (element.get("class") or "").split()
        anchor = self.anchor(element) if tag not in ("table", "figure") and not tag.startswith("h") else ""
        handler: Callable[[etree._Element], str] | None = getattr(self, f"_block_{tag}", None)
        if self._is_display_math(element):
            return anchor + self._display_math(element)
        if tag == "aside" and "callout" in classes:
            return anchor + self._callout(element, classes)
        if handler is not None:
            return anchor + handler(element)
        return anchor + self.flow(element)  # div, section, header…: their content

    def _block_p(self, element: etree._Element) -> str:
        address = embed_address(element)
        if address:  # a website's video or post: the card, and a QR code of its address (export/embeds.py)
            name = self.images.add(("qr", address), ".svg", qr_svg(address))
            code = f"#image({string(name)}, width: 18mm, alt: {string('QR code: ' + address)})"
            return (f"#block(width: 100%, inset: (y: 4pt), breakable: false, stroke: (top: 0.5pt + luma(153), "
                    f"bottom: 0.5pt + luma(153)))[#set text(size: 9pt)\n#set par(justify: false)\n"
                    f"{self.flow(element)}\n\n{code}]")
        return self.flow(element) if len(element) or (element.text or "").strip() else ""

    def _heading(self, element: etree._Element) -> str:
        level = int(element.tag[1])
        outlined = any(c.startswith("toc-") for c in (element.get("class") or "").split())
        identifier = element.get("id") or ""
        marker = self._enter(element, words=False)  # before the heading: its text is shown again (contents)
        entered = element.attrib.pop(_ORDINAL, None) is not None  # (so that inline_content sets no marker)
        content = self.inline_content(element)
        if entered:
            self._frames.pop()
        if not content.strip():
            return marker
        mark = self._label_once(identifier)
        if not "".join(element.itertext()).strip():  # an image or an empty link alone: no words to title
            # anything by (PDF/UA refuses an empty heading; it is out of the contents already, R009)
            return f"{marker}#block(sticky: true)[{content}]{' ' + mark if mark else ''}"
        bookmark = f", bookmarked: {'true' if outlined else 'false'}"
        # Below the article's title (1), and never more than one level down from
        # the heading before it: a tagged PDF (PDF/UA-1) may skip no level.
        level = self._level = max(2, min(level, self._level + 1, 6))
        return (f"{marker}#heading(level: {level}, outlined: {'true' if outlined else 'false'}"
                f"{bookmark})[{content}]{' ' + mark if mark else ''}")

    _block_h1 = _block_h2 = _block_h3 = _block_h4 = _block_h5 = _block_h6 = _heading

    def _block_blockquote(self, element: etree._Element) -> str:
        return f"#quote(block: true)[{self.flow(element)}]"

    def _block_ul(self, element: etree._Element) -> str:
        items = ", ".join(f"[{self.flow(li)}]" for li in element if li.tag == "li")
        return f"#list({items})" if items else ""

    def _block_ol(self, element: etree._Element) -> str:
        items = ", ".join(f"[{self.flow(li)}]" for li in element if li.tag == "li")
        start = element.get("start") or "1"
        start = start if start.isdigit() and len(start) < 9 else "1"
        return f"#enum(start: {start}, {items})" if items else ""

    def _block_dl(self, element: etree._Element) -> str:
        items, term = [], ""
        for child in element:
            if child.tag == "dt":
                if term:
                    items.append(f"terms.item([{term}], [])")
                term = self.inline_content(child)
            elif child.tag == "dd":
                items.append(f"terms.item([{term}], [{self.flow(child)}])")
                term = ""
        if term:
            items.append(f"terms.item([{term}], [])")
        return f"#terms({', '.join(items)})" if items else ""

    def _block_pre(self, element: etree._Element) -> str:
        code = element.find("code")
        source = "".join((code if code is not None else element).itertext())
        language = next((c[len("language-"):] for c in ((code.get("class") or "") if code is not None else "")
                         .split() if c.startswith("language-")), "")
        language = language if re.fullmatch(r"[A-Za-z0-9_+#.-]{1,30}", language) else ""
        lang = f", lang: {string(language)}" if language else ""
        marker = self._enter(element)
        self._leave(element)
        return f"{marker}#raw(block: true{lang}, {string(source.rstrip(chr(10)))})"

    def _block_hr(self, element: etree._Element) -> str:
        return "#rule()"

    def _block_details(self, element: etree._Element) -> str:
        return self.flow(element)

    def _block_summary(self, element: etree._Element) -> str:
        return f"#strong[{self.inline_content(element)}]"

    def _block_figcaption(self, element: etree._Element) -> str:
        return f"#caption-text[{self.inline_content(element)}]"

    _block_caption = _block_figcaption

    def _block_figure(self, element: etree._Element) -> str:
        caption = element.find("figcaption")
        parts = [child for child in element if child is not caption]
        inner = Converter.flow_of(self, parts, element.text)
        mark = self._label_once(element.get("id") or "")
        caption_arg = f", caption: [{self.inline_content(caption)}]" if caption is not None else ""
        return f"#figure(numbering: none, outlined: false{caption_arg}, [{inner}]){' ' + mark if mark else ''}"

    def flow_of(self, children: list[etree._Element], lead: str | None) -> str:
        holder = etree.Element("div")
        holder.text = lead
        for child in children:
            holder.append(_copy(child))
        return self.flow(holder)

    def _block_table(self, element: etree._Element) -> str:
        caption = element.find("caption")
        head = [row for part in element.findall("thead") for row in part.findall("tr")]
        body = [row for part in element if part.tag in ("tbody", "tfoot") for row in part.findall("tr")]
        body += element.findall("tr")
        if not head and body and all(cell.tag == "th" for cell in body[0]):
            head, body = body[:1], body[1:]
        rows = head + body
        caption_arg = f", caption: figure.caption(position: top, [{self.inline_content(caption)}])" \
            if caption is not None else ""  # first: the caption's block comes before the cells'
        columns = max((sum(_span(cell, "colspan") for cell in row if cell.tag in ("td", "th")) for row in rows),
                      default=1)
        for row in head:  # repeated on each page: no page-break markers in it
            for cell in row.iter():
                cell.attrib.pop(_ORDINAL, None)
        cells = [", ".join(self._cell(cell) for cell in row if cell.tag in ("td", "th")) for row in head]
        header = f"table.header({', '.join(c for c in cells if c)}), " if any(cells) else ""
        body_cells = ", ".join(self._cell(cell) for row in body for cell in row if cell.tag in ("td", "th"))
        table = f"table(columns: {max(columns, 1)}, {header}{body_cells})"
        mark = self._label_once(element.get("id") or "")
        figure = f"#figure(kind: table, numbering: none, outlined: false{caption_arg}, {table}){mark}"
        if len(rows) <= SHORT_TABLE_ROWS:  # kept on one page, with its caption (as the WeasyPrint booklet does)
            return f"#block(breakable: false)[{figure}]"
        return figure

    def _cell(self, cell: etree._Element) -> str:
        spans = [f"{name}: {_span(cell, name)}" for name in ("colspan", "rowspan") if _span(cell, name) > 1]
        align = re.search(r"text-align:\s*(left|right|center)", cell.get("style") or "")
        if align:
            spans.append(f"align: {'start' if align.group(1) == 'left' else 'end' if align.group(1) == 'right' else 'center'}")
        content = self.flow(cell)
        if cell.tag == "th":
            content = f"#strong[{content}]"
        return f"table.cell({', '.join(spans)})[{content}]" if spans else f"[{content}]"

    def _callout(self, element: etree._Element, classes: list[str]) -> str:
        kind = next((c[len("callout-"):] for c in classes if c.startswith("callout-")), "note")
        kind = kind if re.fullmatch(r"[a-z0-9-]{1,30}", kind) else "note"
        title = next((child for child in element if child.tag == "p" and child.get("class") == "callout-title"),
                     None)
        rest = [child for child in element if child is not title]
        heading = self.inline_content(title) if title is not None else ""  # first, as it comes first
        body = self.flow_of(rest, element.text)
        return f"#callout({string(kind)}, [{heading}], [{body}])"

    # --- maths -------------------------------------------------------------------------

    def _is_display_math(self, element: etree._Element) -> bool:
        return element.tag == "div" and "math" in (element.get("class") or "").split() \
            and "display" in (element.get("class") or "").split()

    def _display_math(self, element: etree._Element) -> str:
        number = element.find("span")
        math = next(element.iter(MATH), None)
        drawing = self._formula(math, display=True) if math is not None else ""
        mark = self._label_once(element.get("id") or "")
        tag = f"[{text(''.join(number.itertext()))}]" if number is not None and \
            "equation-number" in (number.get("class") or "") else "none"
        return f"#equation({drawing or '[]'}, {tag}){' ' + mark if mark else ''}"

    def _formula(self, math: etree._Element, display: bool) -> str:
        tex = math.get("alttext") or ""
        formula = next((f for f in self.formulas if f.tex == tex and f.display == display), None)
        if formula is None:
            return f"#raw({string(tex)})"
        name = self.images.add(("formula", tex, display), ".svg", formula.svg.encode("utf-8"))
        picture = f"image({string(name)}, width: {formula.width:.4g}em, alt: {string(tex)})"
        if display:
            return picture
        return f"#box(baseline: {formula.depth:.4g}em, {picture})"

    # --- inline --------------------------------------------------------------------------

    def inline_content(self, element: etree._Element | None) -> str:
        if element is None:
            return ""
        parts = [self._enter(element) + self._text(element.text or "")]
        for child in element:
            if isinstance(child.tag, str):
                parts.append(self.inline(child) if child.tag not in BLOCKS else " " + self.inline_content(child))
            parts.append(self._text(child.tail or ""))
        self._leave(element)
        return "".join(parts).strip()

    def inline(self, element: etree._Element) -> str:
        tag, classes = element.tag, (element.get("class") or "").split()
        if tag == MATH:
            return self._formula(element, display=False)
        if tag == "sup" and any(a.get("class") == NOTE_CALL for a in element.iter("a")):
            return self.anchor(element) + self._footnote(element)
        anchor = self.anchor(element)
        content = lambda: self.inline_content(element)  # noqa: E731 (built only when needed)
        if tag in ("em", "i", "cite", "dfn", "var"):
            return f"{anchor}#emph[{content()}]"
        if tag in ("strong", "b"):
            return f"{anchor}#strong[{content()}]"
        if tag in ("code", "kbd", "samp"):
            self._count("".join(element.itertext()))
            return f"{anchor}#raw({string(''.join(element.itertext()))})"
        if tag == "a":
            return anchor + self._link(element, classes)
        if tag == "img":
            return anchor + self._image(element, inline=True)
        if tag == "br":
            return "#linebreak()"
        if tag == "sub":
            return f"{anchor}#sub[{content()}]"
        if tag == "sup":
            return f"{anchor}#super[{content()}]"
        if tag in ("del", "s"):
            return f"{anchor}#strike[{content()}]"
        if tag in ("ins", "u"):
            return f"{anchor}#underline[{content()}]"
        if tag == "mark":
            return f"{anchor}#highlight[{content()}]"
        if tag == "small":
            return f"{anchor}#text(size: 0.85em)[{content()}]"
        if tag == "q":
            return f"{anchor}#quote[{content()}]"
        if tag == "input":
            return "☑ " if element.get("checked") is not None else "☐ "
        if tag in ("rp", "wbr"):
            return ""
        language = language_arguments(element.get("lang") or "")
        if language:
            return f"{anchor}#text({language})[{content()}]"
        return anchor + content()  # span, abbr, time, data, bdi…: their text

    def _link(self, element: etree._Element, classes: list[str]) -> str:
        href = element.get("href") or ""
        content = self.inline_content(element)
        if href.startswith("#"):
            target = unquote(href[1:])
            if target not in self.known:
                return content
            if "xref" in classes:  # a reference, or a link to another article: its target's page after it
                return f"#link(<{label(target)}>)[{content}]#pageref(<{label(target)}>)"
            return f"#link(<{label(target)}>)[{content}]"
        if href.startswith(_LINK_SCHEMES):
            return f"#link({string(href)})[{content}]"
        return content  # a link to a file that is not part of the book: its text

    def _image(self, element: etree._Element, inline: bool) -> str:
        source = unquote(element.get("src") or "")
        alt = element.get("alt") or ""
        path = self._resolved(source)
        if path is None:
            return text(alt)
        name = self.images.add(path, path.suffix.lower(), path)
        width = _WIDTH.search(element.get("style") or "")
        size = f", width: {float(width.group(1)):g}%" if width and not inline else ""
        picture = f"image({string(name)}, alt: {string(alt)}{size})"
        if not alt.strip():  # no words for it: decorative, as alt="" is in HTML (the author is warned: R003);
            picture = f"pdf.artifact(image({string(name)}, alt: none{size}))"  # Typst's PDF/UA refuses it else
        return f"#box({picture})" if inline else f"#{picture}"

    def _resolved(self, source: str) -> Path | None:
        """The file the build resolved for an image's `src` (one of the
        article's resources), if Typst can read its format."""
        if not source or "://" in source or source.startswith("data:"):
            return None
        candidates = {(self.base / source).resolve(), Path(source).resolve()} if Path(source).is_absolute() \
            else {(self.base / source).resolve()}
        for path in self.resources:
            if path.resolve() in candidates or path.as_posix().endswith("/" + source.lstrip("./")):
                return path if path.suffix.lower() in IMAGE_SUFFIXES else None
        return None

    def _footnote(self, call: etree._Element) -> str:
        link = next(a for a in call.iter("a") if a.get("class") == NOTE_CALL)
        self._count("".join(link.itertext()))  # the EPUB keeps the call's number in the text
        identifier = (link.get("href") or "")[1:]
        if identifier in self.note_labels:  # a note called again: the same note
            return f"#footnote(<{self.note_labels[identifier]}>)"
        note = self.notes.get(identifier)
        if note is None:
            return f"#super[{text(''.join(link.itertext()))}]"
        for back in [a for a in note.iter("a") if a.get("class") == NOTE_BACKLINK]:
            _remove_keeping_tail(back)
        mark = label(identifier)
        self.note_labels[identifier] = mark
        self.emitted.add(mark)
        self._frames.append(None)  # the note's letters are not the paragraph's (the EPUB sets notes apart)
        content = self.flow(note)
        self._frames.pop()
        return f"#footnote[{content}]<{mark}>"

    # --- labels ----------------------------------------------------------------------

    def anchor(self, element: etree._Element) -> str:
        """A label where an element with an id begins, for the links and
        page references to it: an empty metadata, labelled."""
        identifier = element.get("id") or ""
        mark = self._label_once(identifier)
        return f"#metadata(none){mark}" if mark else ""

    def _label_once(self, identifier: str) -> str:
        if not identifier or identifier not in self.known:
            return ""
        mark = label(identifier)
        if mark in self.emitted:
            return ""
        self.emitted.add(mark)
        return f"<{mark}>"


@dataclass
class _Frame:
    """A block being written: its ordinal, its letters so far, the letters at its last marker."""

    block: int
    words: bool
    letters: int = 0
    marked: int = 0


_NOT_LETTER = re.compile(r"[\W_]")  # \w is str.isalnum() and "_"


@lru_cache(maxsize=None)
def _nth_letter(count: int) -> re.Pattern:
    """Matches up to and including the `count`-th letter or digit."""
    return re.compile(rf"(?:[\W_]*[^\W_]){{{count}}}")


def _letters(value: str) -> int:
    """Letters and digits, as pipeline.export.pagebreaks counts them."""
    return len(_NOT_LETTER.sub("", value))


def linked_ids(xhtml_fragments: list[str]) -> set[str]:
    """The ids that internal links name (#id), in all the fragments: the ones that get a label."""
    found: set[str] = set()
    for fragment in xhtml_fragments:
        found.update(unquote(m) for m in re.findall(r'href="#([^"]+)"', fragment))
    return found


def _span(cell: etree._Element, name: str) -> int:
    value = cell.get(name) or "1"
    return min(int(value), 100) if value.isdigit() and int(value) > 0 else 1


def _copy(element: etree._Element) -> etree._Element:
    import copy

    duplicate = copy.deepcopy(element)
    duplicate.tail = element.tail
    return duplicate


def _remove_keeping_tail(element: etree._Element) -> None:
    parent, previous = element.getparent(), element.getprevious()
    tail = element.tail or ""
    if previous is not None:
        previous.tail = (previous.tail or "").rstrip() + tail
    else:
        parent.text = (parent.text or "").rstrip() + tail
    parent.remove(element)
