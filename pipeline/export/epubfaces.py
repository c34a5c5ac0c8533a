"""Which @font-face rules of the EPUB's stylesheets draw its text, and which characters each draws.

An EPUB carries its fonts, and a reading system downloads every one the
stylesheet declares and uses. A face nobody's text is set in (a monospace
face in a book without code, Source Serif after [style] text-font chose
another family) is dead weight: 10-20 kB each, in every per-article EPUB.

So the documents are read as a reading system would: the stylesheets'
rules cascaded over each element (cssselect2 matches the selectors,
tinycss2 reads the values; the HTML defaults a reading system adds: bold
headings, italic emphasis, monospace code), each run of text given its
font-family stack, weight and style, and each character to the face CSS
font matching picks for it (CSS Fonts 4, 5.2: style, then weight, then
unicode-range and the face's own character map, family after family).
What is not sure to be drawn by a generic family stays ours: a rule in
@media counts as applying, a face whose file cannot draw a character
passes it on. The exporter then keeps only the faces that draw something
(`prune`), each subset to what it draws and `SAFE` (what a reading
system may add: list numbers and bullets, hyphens).

Pure Python over lxml trees; no WeasyPrint (an EPUB-only build never loads it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

# Characters a reading system may draw that the documents do not hold: list
# numbers and bullets, the hyphen of hyphenation, quotes of <q>, an ellipsis.
SAFE = " \u00a00123456789.,:;!?()[]-\u2010\u2013\u2014'\u2019\"\u201c\u201d\u2022\u25e6\u25aa\u2026/"
GENERIC = frozenset({"serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui", "math", "emoji",
                     "fangsong", "ui-serif", "ui-sans-serif", "ui-monospace", "ui-rounded"})
# What a reading system's own stylesheet sets (the HTML defaults that choose a face).
_DEFAULTS: dict[str, dict[str, str]] = {
    **{f"h{level}": {"font-weight": "bold"} for level in range(1, 7)},
    "b": {"font-weight": "bolder"}, "strong": {"font-weight": "bolder"}, "th": {"font-weight": "bold"},
    **{name: {"font-style": "italic"} for name in ("i", "em", "cite", "var", "dfn", "address")},
    **{name: {"font-family": "monospace"} for name in ("code", "kbd", "samp", "pre", "tt")},
}
_UNDRAWN = frozenset({"head", "title", "style", "script", "template"})
_PROPERTIES = frozenset({"font-family", "font-weight", "font-style", "text-transform", "font-variant",
                         "font-variant-caps", "content"})
_CAPS = frozenset({"small-caps", "all-small-caps", "petite-caps", "all-petite-caps", "unicase", "titling-caps"})
_SIZES = frozenset({"xx-small", "x-small", "small", "medium", "large", "x-large", "xx-large", "xxx-large",
                    "larger", "smaller", "math"})
_SYSTEM_FONTS = frozenset({"caption", "icon", "menu", "message-box", "small-caption", "status-bar"})
_RANGE = re.compile(r"u\+([0-9a-f?]{1,6})(?:-([0-9a-f]{1,6}))?", re.IGNORECASE)


@dataclass(frozen=True)
class FaceRule:
    """One @font-face rule: where it stands (sheet, line, column), what it declares."""

    sheet: str
    line: int
    column: int
    order: int  # of definition: the later of equal faces draws first
    family: str  # case-folded
    weights: tuple[int, int]
    italic: bool
    urls: tuple[str, ...]  # as written: "../fonts/NAME"
    ranges: tuple[tuple[int, int], ...] | None  # None: every character
    top: bool = True  # at the top level of its sheet (else within @media or @supports: never pruned)

    def covers(self, point: int) -> bool:
        return self.ranges is None or any(a <= point <= b for a, b in self.ranges)


@dataclass(frozen=True)
class Style:
    """What chooses a face, as computed for one element (all of it inherited)."""

    families: tuple[str, ...] = ()  # case-folded; () is the reading system's own font
    weight: int = 400
    italic: bool = False
    transform: str = "none"  # text-transform, and "upper" for small capitals
    custom: tuple[tuple[str, tuple], ...] = ()  # custom properties, for var()


@dataclass
class Sheet:
    """One stylesheet, parsed: its style rules (for cssselect2) and its faces."""

    name: str
    rules: list[tuple[object, list[tuple[str, list, bool]]]] = field(default_factory=list)
    faces: list[FaceRule] = field(default_factory=list)


def parse_sheet(name: str, css: str, first_order: int = 0) -> Sheet:
    """The style rules and @font-face rules of `css` (rules in @media and
    @supports too: they may apply). Selectors cssselect2 cannot read are left
    out, as a reading system leaves them."""
    import tinycss2

    sheet = Sheet(name)
    _read_rules(sheet, tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True), True, first_order)
    return sheet


def _read_rules(sheet: Sheet, nodes: Iterable, top: bool, first_order: int) -> None:
    import cssselect2
    import tinycss2

    for node in nodes:
        if node.type == "qualified-rule":
            try:
                selectors = cssselect2.compile_selector_list(node.prelude)
            except cssselect2.SelectorError:
                continue
            declarations = _declarations(node.content)
            if declarations:
                sheet.rules += [(selector, declarations) for selector in selectors]
        elif node.type == "at-rule" and node.lower_at_keyword == "font-face" and node.content is not None:
            face = _face(sheet.name, node, first_order + len(sheet.faces), top)
            if face is not None:
                sheet.faces.append(face)
        elif node.type == "at-rule" and node.lower_at_keyword in ("media", "supports") and node.content:
            _read_rules(sheet, tinycss2.parse_rule_list(node.content, skip_comments=True, skip_whitespace=True),
                        False, first_order)


def _declarations(content) -> list[tuple[str, list, bool]]:
    import tinycss2

    return [(d.lower_name, _tokens(d.value), d.important)
            for d in tinycss2.parse_blocks_contents(content, skip_comments=True, skip_whitespace=True)
            if d.type == "declaration" and (d.lower_name in _PROPERTIES or d.lower_name in ("font",)
                                            or d.name.startswith("--"))]


def _tokens(value: list) -> list:
    return [token for token in value if token.type not in ("whitespace", "comment")]


def _face(sheet: str, node, order: int, top: bool) -> FaceRule | None:
    import tinycss2

    values = {d.lower_name: d.value for d in tinycss2.parse_blocks_contents(node.content, skip_comments=True,
                                                                            skip_whitespace=True)
              if d.type == "declaration"}
    families = _families(_tokens(values.get("font-family", [])))
    if len(families) != 1:
        return None  # a face without one family name is invalid: never used
    weights = _face_weights(_tokens(values.get("font-weight", [])))
    style = [t.lower_value for t in _tokens(values.get("font-style", [])) if t.type == "ident"]
    ranges = None
    if "unicode-range" in values:
        ranges = tuple(_range(match) for match in _RANGE.finditer(tinycss2.serialize(values["unicode-range"])))
    return FaceRule(sheet, node.source_line, node.source_column, order, families[0], weights,
                    bool(style) and style[0] in ("italic", "oblique"), tuple(_urls(values.get("src", []))), ranges, top)


def _range(match: re.Match) -> tuple[int, int]:
    first, last = match.group(1), match.group(2)
    if "?" in first:
        return int(first.replace("?", "0"), 16), int(first.replace("?", "F"), 16)
    return int(first, 16), int(last or first, 16)


def _urls(tokens: Iterable) -> Iterable[str]:
    for token in tokens:
        if token.type == "url":
            yield token.value
        elif token.type == "function" and token.lower_name == "url":
            strings = [t.value for t in token.arguments if t.type == "string"]
            if strings:
                yield strings[0]


def _face_weights(tokens: list) -> tuple[int, int]:
    numbers = [int(t.value) if t.type == "number" else {"bold": 700}.get(t.lower_value, 400)
               for t in tokens if t.type in ("number", "ident")]
    return (numbers[0], numbers[-1]) if numbers else (400, 400)


def _families(tokens: list) -> tuple[str, ...]:
    """A font-family list: strings, or runs of identifiers joined by spaces; case-folded."""
    families, words = [], []
    for token in tokens + [None]:
        if token is None or (token.type == "literal" and token.value == ","):
            if words:
                families.append(" ".join(words).casefold())
            words = []
        elif token.type == "string":
            words.append(token.value)
        elif token.type == "ident":
            words.append(token.value)
    return tuple(families)


# ---------- the cascade ----------


class Cascade:
    """The computed Style of every element of one document, under its sheets."""

    def __init__(self, sheets: list[Sheet]):
        import cssselect2
        import tinycss2

        self.matcher = cssselect2.Matcher()
        for sheet in sheets:
            for selector, declarations in sheet.rules:
                self.matcher.add_selector(selector, declarations)
        self.defaults = {tag: [(name, tinycss2.parse_component_value_list(value), False)
                               for name, value in values.items()] for tag, values in _DEFAULTS.items()}
        self.computed: dict[tuple, Style] = {}  # (declarations' ids, parent) -> Style: elements repeat

    def style(self, element, parent: Style) -> tuple[Style, list[tuple[Style, str]]]:
        """`element`'s Style and its ::before/::after text (each with its Style)."""
        own = list(self.defaults.get(element.local_name, ()))
        pseudo: dict[str, list] = {}
        matched = self.matcher.match(element)
        inline = _inline(element.etree_element.get("style"))
        for important in (False, True):
            for _, _, kind, declarations in matched:
                chosen = [d for d in declarations if d[2] == important]
                if kind is None:
                    own += chosen
                elif kind in ("before", "after"):
                    pseudo.setdefault(kind, []).extend(chosen)
            if not important:
                own += inline
        style = self._computed(own, parent) if not inline else _computed(own, parent)
        generated = []
        for kind in ("before", "after"):
            declarations = pseudo.get(kind, [])
            text = _content(declarations)
            if text:
                generated.append((self._computed(declarations, style), text))
        return style, generated

    def _computed(self, declarations: list, parent: Style) -> Style:
        key = (tuple(map(id, declarations)), parent)
        if key not in self.computed:
            self.computed[key] = _computed(declarations, parent)
        return self.computed[key]


def _inline(css: str | None) -> list[tuple[str, list, bool]]:
    import tinycss2

    if not css:
        return []
    return [(d.lower_name, _tokens(d.value), False)
            for d in tinycss2.parse_blocks_contents(css, skip_comments=True, skip_whitespace=True)
            if d.type == "declaration"]


def _content(declarations: list) -> str:
    """The text of a `content` value: its strings; digits for a counter."""
    tokens = next((value for name, value, _ in reversed(declarations) if name == "content"), [])
    text = "".join(t.value for t in tokens if t.type == "string")
    if any(t.type == "function" and t.lower_name in ("counter", "counters") for t in tokens):
        text += "0123456789"
    return text


def _computed(declarations: list, parent: Style) -> Style:
    style = parent
    custom = dict(parent.custom)
    for name, value, _ in declarations:
        if name.startswith("--"):
            custom[name] = tuple(value)
    style = replace(style, custom=tuple(sorted(custom.items())))
    for name, value, _ in declarations:
        if not name.startswith("--"):
            style = _declare(style, name, _substituted(_tokens(list(value)), custom), parent)
    return style


def _substituted(tokens: list, custom: dict[str, tuple], depth: int = 0) -> list:
    """var(--name, fallback) replaced by the custom property's tokens."""
    out = []
    for token in tokens:
        if token.type == "function" and token.lower_name == "var" and depth < 8:
            arguments = _tokens(token.arguments)
            name = arguments[0].value if arguments and arguments[0].type == "ident" else ""
            comma = next((i for i, t in enumerate(arguments) if t.type == "literal" and t.value == ","), None)
            fallback = arguments[comma + 1:] if comma is not None else []
            out += _substituted(_tokens(list(custom.get(name, fallback))), custom, depth + 1)
        else:
            out.append(token)
    return out


def _declare(style: Style, name: str, tokens: list, parent: Style) -> Style:
    keyword = tokens[0].lower_value if len(tokens) == 1 and tokens[0].type == "ident" else ""
    if keyword in ("inherit", "unset", "revert", "revert-layer"):
        return _inherit(style, name, parent)
    if keyword == "initial":
        return _inherit(style, name, Style(custom=style.custom))
    if name == "font-family":
        families = _families(tokens)
        return replace(style, families=families) if families else style
    if name == "font-weight":
        return replace(style, weight=_weight(tokens, parent.weight))
    if name == "font-style":
        return replace(style, italic=keyword in ("italic", "oblique")) if keyword else style
    if name == "text-transform":
        return replace(style, transform=keyword or style.transform)
    if name in ("font-variant", "font-variant-caps"):
        if any(t.type == "ident" and t.lower_value in _CAPS for t in tokens):
            return replace(style, transform="uppercase")
        return style
    if name == "font":
        return _shorthand(style, tokens, parent)
    return style


def _inherit(style: Style, name: str, parent: Style) -> Style:
    fields = {"font-family": ("families",), "font-weight": ("weight",), "font-style": ("italic",),
              "text-transform": ("transform",), "font": ("families", "weight", "italic")}.get(name, ())
    return replace(style, **{f: getattr(parent, f) for f in fields})


def _weight(tokens: list, inherited: int) -> int:
    if len(tokens) != 1:
        return inherited
    token = tokens[0]
    if token.type == "number" and 1 <= token.value <= 1000:
        return int(token.value)
    keyword = token.lower_value if token.type == "ident" else ""
    if keyword == "bolder":
        return 400 if inherited < 350 else 700 if inherited < 550 else 900
    if keyword == "lighter":
        return 100 if inherited < 550 else 400 if inherited < 750 else 700
    return {"normal": 400, "bold": 700}.get(keyword, inherited)


def _shorthand(style: Style, tokens: list, parent: Style) -> Style:
    """font: [style || variant || weight || stretch]? size[/line-height]? family-list."""
    if len(tokens) == 1 and tokens[0].type == "ident" and tokens[0].lower_value in _SYSTEM_FONTS:
        return replace(style, families=(), weight=400, italic=False)
    weight, italic = 400, False
    for index, token in enumerate(tokens):
        if token.type in ("dimension", "percentage") or (token.type == "number" and token.value == 0) \
                or (token.type == "ident" and token.lower_value in _SIZES):
            rest = tokens[index + 1:]
            if rest and rest[0].type == "literal" and rest[0].value == "/":
                rest = rest[2:]
            families = _families(rest)
            return replace(style, families=families or style.families, weight=weight, italic=italic)
        if token.type == "number":
            weight = _weight([token], parent.weight)
        elif token.type == "ident" and token.lower_value in ("bold", "bolder", "lighter"):
            weight = _weight([token], parent.weight)
        elif token.type == "ident" and token.lower_value in ("italic", "oblique"):
            italic = True
    return style  # no size: an invalid declaration, ignored


# ---------- font matching ----------


@dataclass
class FaceUse:
    """What the documents draw with each @font-face rule (by its place)."""

    faces: list[FaceRule]
    drawn: dict[tuple[str, int, int], set[str]] = field(default_factory=dict)

    def used(self) -> list[FaceRule]:
        """Rules that draw something, and those of @media blocks (never pruned)."""
        return [face for face in self.faces if self.key(face) in self.drawn or not face.top]

    @staticmethod
    def key(face: FaceRule) -> tuple[str, int, int]:
        return face.sheet, face.line, face.column


def _matching(faces: list[FaceRule], weight: int, italic: bool) -> list[FaceRule]:
    """The faces of one family CSS font matching narrows to (style first, then
    weight: CSS Fonts 4, 5.2), in the order they are tried: the last defined first."""
    styled = [f for f in faces if f.italic == italic] or faces

    def distance(face: FaceRule) -> tuple[int, int]:
        low, high = face.weights
        value = min(max(weight, low), high)
        if value == weight:
            return 0, 0
        if 400 <= weight <= 500:
            if weight < value <= 500:
                return 1, value - weight
            return (2, weight - value) if value < weight else (3, value - weight)
        if weight < 400:
            return (1, weight - value) if value < weight else (2, value - weight)
        return (1, value - weight) if value > weight else (2, weight - value)

    best = min(distance(f) for f in styled)
    return sorted((f for f in styled if distance(f) == best), key=lambda f: -f.order)


def face_use(documents: Iterable[tuple[object, list[Sheet]]],
             characters_of: Callable[[FaceRule], frozenset[int] | None]) -> FaceUse:
    """Which face draws each character of each document (lxml roots, each
    with its sheets in order). `characters_of(face)`: the code points its
    file draws, None when it has no file of the EPUB (a local() face)."""
    import cssselect2

    use = FaceUse([])
    known: set[tuple[str, int, int]] = set()
    prepared: dict[tuple[str, ...], tuple[Cascade, dict[str, list[FaceRule]]]] = {}
    text: dict[tuple[tuple[str, ...], Style], set[str]] = {}  # what each style sets, under each set of sheets
    for root, sheets in documents:
        names = tuple(sheet.name for sheet in sheets)
        if names not in prepared:
            families: dict[str, list[FaceRule]] = {}
            for face in (face for sheet in sheets for face in sheet.faces):
                families.setdefault(face.family, []).append(face)
                if FaceUse.key(face) not in known:
                    known.add(FaceUse.key(face))
                    use.faces.append(face)
            prepared[names] = Cascade(sheets), families
        for style, run in _runs(cssselect2.ElementWrapper.from_xml_root(root), prepared[names][0]):
            text.setdefault((names, replace(style, custom=(), transform="none")), set()).update(
                _transformed(run, style.transform))
    for (names, style), characters in text.items():
        for character in characters:
            if ord(character) >= 0x20 and not character.isspace():
                face = _face_for(ord(character), prepared[names][1], style, characters_of)
                if face is not None:
                    use.drawn.setdefault(FaceUse.key(face), set()).add(character)
    return use


def _runs(wrapper, cascade: Cascade) -> Iterable[tuple[Style, str]]:
    """Each run of text of the document's body with the Style it is set in
    (an element's text, its ::before and ::after, its tail in its parent's)."""
    styles: dict[object, Style] = {}
    drawn: set[object] = set()
    for element in wrapper.iter_subtree():
        parent = element.parent
        style, generated = cascade.style(element, styles[parent.etree_element] if parent else Style())
        styles[element.etree_element] = style
        inside = parent is not None and parent.etree_element in drawn
        if element.local_name in _UNDRAWN or not (inside or element.local_name == "body"):
            continue
        drawn.add(element.etree_element)
        node = element.etree_element
        yield style, node.text or ""
        yield from generated
        if node.tail and inside:
            yield styles[parent.etree_element], node.tail


def _transformed(text: str, transform: str) -> str:
    if transform in ("uppercase", "capitalize"):
        return text + text.upper()
    if transform == "lowercase":
        return text + text.lower()
    return text


def _face_for(point: int, families: dict[str, list[FaceRule]], style: Style,
              characters_of: Callable[[FaceRule], frozenset[int] | None]) -> FaceRule | None:
    for family in style.families:
        if family in GENERIC:
            return None  # the reading system's own font
        faces = families.get(family)
        if not faces:
            continue  # (a font the reading system may have; ours come after it)
        for face in _matching(faces, style.weight, style.italic):
            points = characters_of(face)
            if face.covers(point) and points is not None and point in points:
                return face
    return None


# ---------- pruning ----------


def prune(css: str, sheet: str, kept: set[tuple[str, int, int]], ours: Callable[[FaceRule], bool]) -> str:
    """`css` without its top-level @font-face rules of our fonts (`ours`) that
    are not `kept`: each cut from where it starts to where the next rule
    starts, the rest of the text as it was."""
    import tinycss2

    nodes = tinycss2.parse_stylesheet(css, skip_comments=False, skip_whitespace=False)
    starts = _offsets(css)
    cuts = []
    parsed = {(f.line, f.column): f for f in parse_sheet(sheet, css).faces if f.top}
    for index, node in enumerate(nodes):
        face = parsed.get((node.source_line, node.source_column)) \
            if node.type == "at-rule" and node.lower_at_keyword == "font-face" else None
        if face is None or (sheet, face.line, face.column) in kept or not ours(face):
            continue
        end = nodes[index + 2] if index + 2 < len(nodes) and nodes[index + 1].type == "whitespace" else \
            nodes[index + 1] if index + 1 < len(nodes) else None
        cuts.append((starts[node.source_line] + node.source_column - 1,
                     starts[end.source_line] + end.source_column - 1 if end is not None else len(css)))
    for start, end in reversed(cuts):
        css = css[:start] + css[end:]
    return css


def _offsets(css: str) -> dict[int, int]:
    """Where each line starts, 1-based lines (tinycss2's positions)."""
    starts, offset = {1: 0}, 0
    for number, line in enumerate(css.split("\n"), start=2):
        offset += len(line) + 1
        starts[number] = offset
    return starts


def file_of(url: str) -> str:
    """The name in the EPUB's fonts/ folder a url of its stylesheet names, or ''."""
    name = url.removeprefix("../fonts/")
    return name if name != url and re.fullmatch(r"[\w.-]+", name) else ""


def normalised(css: str) -> str:
    """Newlines as CSS reads them (tinycss2 counts lines so), for `prune`'s offsets."""
    return css.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
