"""Which font draws which script: the one table, and what follows from it.

The book's Latin families ship in `styles/fonts` ("Book Serif", "Book Sans",
"Book Mono"). Every other script is drawn with a Noto family from Debian's
`fonts-noto-core`, `fonts-noto-cjk` and `fonts-noto-color-emoji` packages
(the Makefile installs them), always by file, from the folders below: fonts
that happen to be installed elsewhere on the machine never change a book.

For each script group the book's text uses, this module writes the
`@font-face` rules (with a `unicode-range` of exactly the characters of that
script the file has) for the PDF and the EPUB, the font stacks, and the
fonts to embed; and it reports the characters no chosen font can draw,
folded into one diagnostic per script.

CJK faces are chosen by language: the same character has different glyphs
in Japanese, Korean, Simplified and Traditional Chinese.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from typing import TYPE_CHECKING

from .styles import styles_dir, words_for

if TYPE_CHECKING:
    from .diagnostics import Diagnostic
    from .model import Book

# Where Debian's packages put the Noto fonts; nothing else is searched.
FONT_DIRS = (Path("/usr/share/fonts/truetype/noto"), Path("/usr/share/fonts/opentype/noto"))
CORE, CJK, EMOJI = "fonts-noto-core", "fonts-noto-cjk", "fonts-noto-color-emoji"


@dataclass(frozen=True)
class Face:
    """One font file (a face of a collection where `index` > 0 or a .ttc)."""

    file: str
    weight: int = 400

    @property
    def path(self) -> Path | None:
        for folder in FONT_DIRS:
            if (folder / self.file).is_file():
                return folder / self.file
        return None


@dataclass(frozen=True)
class ScriptGroup:
    """The fonts of one script (or of a few that one family draws together)."""

    key: str  # in family names and file names: "arabic"
    name: str  # in messages: "Arabic"
    scripts: frozenset[str]  # ISO 15924 codes whose characters it draws
    package: str  # the Debian package with its files
    serif: tuple[Face, ...]  # body text; regular first
    sans: tuple[Face, ...]  # headings, furniture; also behind "Book Mono"
    collection: bool = False  # .ttc files: the face is picked by language (CJK)
    blocks: tuple[tuple[int, int], ...] = ()  # code points it draws whatever their script


def _noto(key: str, name: str, scripts: str, serif: str | None, sans: str, bold: bool = True,
          package: str = CORE, blocks: tuple[tuple[int, int], ...] = ()) -> ScriptGroup:
    def faces(stem: str) -> tuple[Face, ...]:
        return (Face(f"{stem}-Regular.ttf"),) + ((Face(f"{stem}-Bold.ttf", 700),) if bold else ())

    return ScriptGroup(key, name, frozenset(scripts.split()), package, faces(serif or sans), faces(sans),
                       blocks=blocks)


# The table. Order matters only where two groups could draw a character:
# the earlier one does (after the Latin families, which come first).
GROUPS: tuple[ScriptGroup, ...] = (
    # (and the currency signs the book's own faces lack: ₩, ₪, ₹…)
    _noto("lgc", "Latin, Greek and Cyrillic", "Latn Grek Cyrl Zinh", "NotoSerif", "NotoSans",
          blocks=((0x20A0, 0x20CF),)),
    _noto("arabic", "Arabic", "Arab", "NotoNaskhArabic", "NotoSansArabic"),
    _noto("hebrew", "Hebrew", "Hebr", "NotoSerifHebrew", "NotoSansHebrew"),
    _noto("thaana", "Thaana", "Thaa", None, "NotoSansThaana"),
    _noto("syriac", "Syriac", "Syrc", None, "NotoSansSyriac", bold=False),
    _noto("devanagari", "Devanagari", "Deva", "NotoSerifDevanagari", "NotoSansDevanagari"),
    _noto("bengali", "Bengali", "Beng", "NotoSerifBengali", "NotoSansBengali"),
    _noto("gurmukhi", "Gurmukhi", "Guru", "NotoSerifGurmukhi", "NotoSansGurmukhi"),
    _noto("gujarati", "Gujarati", "Gujr", "NotoSerifGujarati", "NotoSansGujarati"),
    _noto("oriya", "Oriya", "Orya", None, "NotoSansOriya"),
    _noto("tamil", "Tamil", "Taml", "NotoSerifTamil", "NotoSansTamil"),
    _noto("telugu", "Telugu", "Telu", "NotoSerifTelugu", "NotoSansTelugu"),
    _noto("kannada", "Kannada", "Knda", "NotoSerifKannada", "NotoSansKannada"),
    _noto("malayalam", "Malayalam", "Mlym", "NotoSerifMalayalam", "NotoSansMalayalam"),
    _noto("sinhala", "Sinhala", "Sinh", "NotoSerifSinhala", "NotoSansSinhala"),
    _noto("thai", "Thai", "Thai", "NotoSerifThai", "NotoSansThai"),
    _noto("lao", "Lao", "Laoo", "NotoSerifLao", "NotoSansLao"),
    _noto("khmer", "Khmer", "Khmr", "NotoSerifKhmer", "NotoSansKhmer"),
    _noto("myanmar", "Myanmar", "Mymr", "NotoSerifMyanmar", "NotoSansMyanmar"),
    _noto("tibetan", "Tibetan", "Tibt", "NotoSerifTibetan", "NotoSerifTibetan"),
    _noto("georgian", "Georgian", "Geor", "NotoSerifGeorgian", "NotoSansGeorgian"),
    _noto("armenian", "Armenian", "Armn", "NotoSerifArmenian", "NotoSansArmenian"),
    _noto("ethiopic", "Ethiopic", "Ethi", "NotoSerifEthiopic", "NotoSansEthiopic"),
    _noto("cherokee", "Cherokee", "Cher", None, "NotoSansCherokee"),
    # (before the scripts that share CJK punctuation, 、 and 。: Mongolian, Yi)
    ScriptGroup("cjk", "Chinese, Japanese and Korean", frozenset("Hani Hira Kana Hang Bopo".split()), CJK,
                (Face("NotoSerifCJK-Regular.ttc"), Face("NotoSerifCJK-Bold.ttc", 700)),
                (Face("NotoSansCJK-Regular.ttc"), Face("NotoSansCJK-Bold.ttc", 700)), collection=True,
                # punctuation, enclosed and full-width forms: "Common" characters of CJK text
                blocks=((0x3000, 0x303F), (0x3200, 0x33FF), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF))),
    _noto("mongolian", "Mongolian", "Mong", None, "NotoSansMongolian", bold=False),
    _noto("javanese", "Javanese", "Java", None, "NotoSansJavanese"),
    _noto("sundanese", "Sundanese", "Sund", None, "NotoSansSundanese"),
    _noto("balinese", "Balinese", "Bali", None, "NotoSansBalinese"),
    _noto("tifinagh", "Tifinagh", "Tfng", None, "NotoSansTifinagh", bold=False),
    _noto("nko", "N'Ko", "Nkoo", None, "NotoSansNKo", bold=False),
    _noto("adlam", "Adlam", "Adlm", None, "NotoSansAdlam"),
    _noto("olchiki", "Ol Chiki", "Olck", None, "NotoSansOlChiki"),
    _noto("vai", "Vai", "Vaii", None, "NotoSansVai", bold=False),
    _noto("yi", "Yi", "Yiii", None, "NotoSansYi", bold=False),
    _noto("canadian", "Canadian syllabics", "Cans", None, "NotoSansCanadianAboriginal"),
    ScriptGroup("emoji", "emoji", frozenset({"Zyyy"}), EMOJI, (Face("NotoColorEmoji.ttf"),),
                (Face("NotoColorEmoji.ttf"),)),
    _noto("symbols", "symbols", "Zyyy", None, "NotoSansSymbols"),
    _noto("symbols2", "symbols", "Zyyy", None, "NotoSansSymbols2", bold=False),
    _noto("math", "mathematical symbols", "Zyyy", None, "NotoSansMath", bold=False),
)

# Face of the CJK collections by language (their order in Noto's .ttc files).
CJK_FACES = {"ja": 0, "ko": 1, "zh-hans": 2, "zh-hant": 3, "zh-hk": 4}
CJK_NAMES = ("jp", "kr", "sc", "tc", "hk")


def cjk_face(language: str) -> int:
    """The CJK face for a BCP 47 tag: Simplified Chinese unless it says otherwise."""
    tag = language.lower()
    if tag.startswith(("zh-hant", "zh-tw", "zh-mo")):
        return CJK_FACES["zh-hant"]
    if tag.startswith(("zh-hk", "yue")):
        return CJK_FACES["zh-hk"]
    return CJK_FACES.get(tag.split("-")[0], CJK_FACES["zh-hans"])


# ---------- coverage ----------


@lru_cache(maxsize=None)
def _cmap(path: Path, index: int = 0) -> frozenset[int]:
    import uharfbuzz as hb

    return frozenset(hb.Face(hb.Blob.from_file_path(str(path)), index).unicodes)


def font_characters(path: Path, index: int = 0) -> frozenset[int]:
    """The code points a font file (a face of a collection: `index`) draws."""
    return _cmap(path, index)


@lru_cache(maxsize=1)
def latin_coverage() -> frozenset[int]:
    """What every face of the book's own text families (styles/fonts) draws:
    a character one of them lacks (Cyrillic in the italic) needs a group."""
    faces = [_cmap(path) for path in sorted((styles_dir() / "fonts").glob("Source*.ttf"))]
    return frozenset.intersection(*faces) if faces else frozenset()


@lru_cache(maxsize=None)
def _scripts(point: int) -> frozenset[str]:
    from fontTools import unicodedata

    return frozenset(unicodedata.script_extension(chr(point)))


def claims(group: ScriptGroup, point: int) -> bool:
    """Is `point` a character of this group's scripts? (Emoji: those shown as
    emoji by default, Unicode's Emoji_Presentation; an arrow or a ✔ in text
    stays a text glyph, from the symbol faces.)"""
    if group.key == "emoji":
        return _emoji_presentation(point)
    return bool(_scripts(point) & group.scripts) or any(a <= point <= b for a, b in group.blocks)


# Unicode 15's Emoji_Presentation=Yes below U+1F000 (emoji-data.txt); from
# U+1F000 on, what the emoji face draws is taken as emoji.
_EMOJI_BMP = ((0x231A, 0x231B), (0x23E9, 0x23EC), (0x23F0, 0x23F0), (0x23F3, 0x23F3), (0x25FD, 0x25FE),
              (0x2614, 0x2615), (0x2648, 0x2653), (0x267F, 0x267F), (0x2693, 0x2693), (0x26A1, 0x26A1),
              (0x26AA, 0x26AB), (0x26BD, 0x26BE), (0x26C4, 0x26C5), (0x26CE, 0x26CE), (0x26D4, 0x26D4),
              (0x26EA, 0x26EA), (0x26F2, 0x26F3), (0x26F5, 0x26F5), (0x26FA, 0x26FA), (0x26FD, 0x26FD),
              (0x2705, 0x2705), (0x270A, 0x270B), (0x2728, 0x2728), (0x274C, 0x274C), (0x274E, 0x274E),
              (0x2753, 0x2755), (0x2757, 0x2757), (0x2795, 0x2797), (0x27B0, 0x27B0), (0x27BF, 0x27BF),
              (0x2B1B, 0x2B1C), (0x2B50, 0x2B50), (0x2B55, 0x2B55))


def _emoji_presentation(point: int) -> bool:
    return point >= 0x1F000 or any(a <= point <= b for a, b in _EMOJI_BMP)


@lru_cache(maxsize=None)
def unicode_range(group: ScriptGroup, face: Face, index: int = 0) -> tuple[tuple[int, int], ...]:
    """The characters of the group's scripts that `face` draws, as runs."""
    path = face.path
    return as_runs(p for p in _cmap(path, index) if claims(group, p)) if path else ()


def as_runs(points) -> tuple[tuple[int, int], ...]:
    """Code points as sorted runs of consecutive ones: [(first, last), ...]."""
    runs: list[list[int]] = []
    for point in sorted(points):
        if runs and runs[-1][1] == point - 1:
            runs[-1][1] = point
        else:
            runs.append([point, point])
    return tuple((start, end) for start, end in runs)


def css_range(runs: tuple[tuple[int, int], ...]) -> str:
    return ", ".join(f"U+{a:X}" if a == b else f"U+{a:X}-{b:X}" for a, b in runs)


# ---------- the plan for one book ----------


@dataclass(frozen=True)
class Missing:
    """Characters of one script that no installed font of the table draws."""

    script: str  # the group's name, or the Unicode script's code
    package: str  # "" when no group of the table draws this script
    characters: tuple[str, ...]


@dataclass(frozen=True)
class FontPlan:
    """The script groups a book needs (installed), and what cannot be drawn."""

    groups: tuple[ScriptGroup, ...]
    cjk_index: int
    missing: tuple[Missing, ...]
    # Articles whose language wants another CJK face than the book's (a
    # Japanese story in a Chinese book): (their language tag, that face's index).
    cjk_articles: tuple[tuple[str, int], ...] = ()

    def faces(self, group: ScriptGroup, role: str) -> tuple[Face, ...]:
        return group.serif if role == "serif" else group.sans

    def index(self, group: ScriptGroup) -> int:
        return self.cjk_index if group.collection else 0


def book_fonts(book: "Book", words: dict[str, str]) -> FontPlan:
    """The plan for a book: its text, its language and its articles', its own fonts."""
    return plan_fonts(book_text(book, words), book.config.language, own_font_files(book),
                      tuple(sorted({a.language for a in book.articles if a.language})))


@lru_cache(maxsize=4)
def plan_fonts(text: str, language: str, own: tuple[Path, ...] = (), languages: tuple[str, ...] = ()) -> FontPlan:
    """Which groups draw `text` (the whole book's), and which characters none
    can; `own`: the book's own font files (styles/fonts/), which draw what
    they have; `languages`: the articles' own, each CJK one with its face."""
    latin = latin_coverage().union(*(_cmap(path) for path in own))
    index = cjk_face(language)
    used: dict[str, ScriptGroup] = {}
    missing: dict[str, tuple[str, list[str]]] = {}
    for character in sorted(set(text)):
        point = ord(character)
        if character.isspace() or point < 0x20 or point in latin or _invisible(point):
            continue
        group = _drawing_group(point, index)
        if group is not None:
            used.setdefault(group.key, group)
            continue
        wanted = next((g for g in GROUPS if claims(g, point) and g.serif[0].path is None), None)
        name = wanted.name if wanted else _script_name(point)
        missing.setdefault(name, (wanted.package if wanted else "", []))[1].append(character)
    groups = tuple(g for g in GROUPS if g.key in used)
    others = tuple((tag, cjk_face(tag)) for tag in languages if _is_cjk(tag) and cjk_face(tag) != index) \
        if "cjk" in used else ()
    return FontPlan(groups, index, tuple(Missing(name, package, tuple(chars))
                                         for name, (package, chars) in sorted(missing.items())), others)


def _is_cjk(language: str) -> bool:
    return language.lower().split("-")[0] in ("zh", "yue", "ja", "ko")


def cmap(path: Path, index: int = 0) -> frozenset[int]:
    """The characters a font file (a face of a collection) has."""
    return _cmap(path, index)


def drawing_group(point: int, index: int) -> ScriptGroup | None:
    """The group whose installed face draws `point` (`index`: the CJK face)."""
    return _drawing_group(point, index)


def _drawing_group(point: int, index: int) -> ScriptGroup | None:
    for group in GROUPS:
        face = group.serif[0]
        if face.path is not None and claims(group, point) and \
                point in _cmap(face.path, index if group.collection else 0):
            return group
    return None


def _invisible(point: int) -> bool:
    """Format characters (bidi marks, joiners, variation selectors): never drawn as glyphs."""
    return point in _INVISIBLE or 0xFE00 <= point <= 0xFE0F or 0xE0100 <= point <= 0xE01EF


_INVISIBLE = frozenset({0x00AD, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D,
                        0x202E, 0x2060, 0x2066, 0x2067, 0x2068, 0x2069, 0xFEFF})


def _script_name(point: int) -> str:
    from fontTools import unicodedata

    return unicodedata.script_name(unicodedata.script(chr(point)))


def missing_locations(missing: Missing, sources: list[tuple[Path, str]]) -> tuple[int, list[tuple[Path, int, int]]]:
    """How many times the characters occur in `sources`, and the first three places."""
    wanted = set(missing.characters)
    count, places = 0, []
    for path, text in sources:
        for number, line in enumerate(text.split("\n"), start=1):
            for column, character in enumerate(line, start=1):
                if character in wanted:
                    count += 1
                    if len(places) < 3:
                        places.append((path, number, column))
    return count, places


# ---------- the book's own fonts (styles/fonts/ in the book folder) ----------

# The packaged families, by the names print.css and epub.css give them, and
# by their fonts' own names.
PACKAGED_FAMILIES = {"Book Serif": "Book Serif", "Book Sans": "Book Sans", "Book Mono": "Book Mono",
                     "Source Serif Pro": "Book Serif", "Source Sans Pro": "Book Sans",
                     "DejaVu Sans Mono": "Book Mono"}
FONT_SUFFIXES = (".ttf", ".otf")  # what WeasyPrint, HarfBuzz's subsetter and EPUB readers all take
_SAFE_FAMILY = re.compile(r"^[^\"\\;{}<>\x00-\x1f]{1,64}$")


@dataclass(frozen=True)
class BookFace:
    """A font file of the book's styles/fonts/, as its name table describes it."""

    path: Path  # real path, inside the book
    family: str
    weight: int
    italic: bool


def book_faces(root: Path) -> tuple[BookFace, ...]:
    """The fonts of the book's styles/fonts/ (read through the gate), in name
    order; a file that is not a font, or is outside the book, is left out
    (the loader reports it: `load.manuscripts._font_problems`)."""
    from .resources import ResourceRefused, inside

    folder = root / "styles" / "fonts"
    try:
        if not folder.is_dir() or not inside(folder, (root,)):  # a folder linked out is not even listed
            return ()
    except ResourceRefused:
        return ()
    faces = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in FONT_SUFFIXES):
        try:
            real = inside(path, (root,))
            stat = real.stat()
        except (ResourceRefused, OSError):
            continue
        face = _describe(real, stat.st_size, stat.st_mtime_ns)
        if face is not None:
            faces.append(face)
    return tuple(faces)


@lru_cache(maxsize=64)
def _describe(path: Path, size: int, mtime: int) -> BookFace | None:
    """Family, weight and style from the font's own tables (size and mtime key the cache)."""
    from fontTools.ttLib import TTFont, TTLibError

    try:
        with TTFont(str(path), lazy=True, fontNumber=0) as font:
            names = font["name"]
            family = str(names.getBestFamilyName() or "").strip()
            weight = int(font["OS/2"].usWeightClass) if "OS/2" in font else 400
            italic = bool(font["head"].macStyle & 2) or \
                ("OS/2" in font and bool(font["OS/2"].fsSelection & 1))
    except (TTLibError, OSError, KeyError, AttributeError, ValueError):
        return None
    if not _SAFE_FAMILY.match(family) or family in PACKAGED_FAMILIES:
        return None
    return BookFace(path, family, weight, italic)


def own_font_files(book: "Book") -> tuple[Path, ...]:
    """The book's own font files (for `plan_fonts`)."""
    return tuple(face.path for face in book_faces(book.root)) if book.styles is not None else ()


def book_families(root: Path) -> set[str]:
    """Every family [style] text-font or heading-font may name."""
    return set(PACKAGED_FAMILIES) | {face.family for face in book_faces(root)}


@dataclass(frozen=True)
class FontChoice:
    """[style] text-font and heading-font, and the book's own faces."""

    text: str = ""  # a family: a packaged alias or a book face's family
    heading: str = ""
    faces: tuple[BookFace, ...] = ()


def font_choice(book: "Book") -> FontChoice:
    config = book.config
    text, heading = (PACKAGED_FAMILIES.get(name, name) for name in (config.text_font, config.heading_font))
    return FontChoice(text, heading, book_faces(book.root) if book.styles is not None else ())


def book_face_rules(choice: FontChoice, url_of) -> str:
    """@font-face rules for the book's own faces; `url_of(face)` names the file."""
    return "".join(f'@font-face {{ font-family: "{face.family}"; src: url("{url_of(face)}"); '
                   f"font-weight: {face.weight}; font-style: {'italic' if face.italic else 'normal'}; }}\n"
                   for face in choice.faces)


# ---------- CSS and files ----------


def family(role: str, group: ScriptGroup) -> str:
    """The PDF's family name for a group's faces in a role.

    Emoji are "emoji": Pango tags emoji runs with the language und-Zsye, for
    which Fontconfig's own rules put the family "emoji" first; named so, our
    face is that family, and the machine's emoji font is never used instead.
    """
    return "emoji" if group.key == "emoji" else f"Book {role.capitalize()} {group.key}"


@lru_cache(maxsize=4)
def pdf_css(plan: FontPlan, choice: FontChoice = FontChoice(), root: Path | None = None) -> str:
    """@font-face rules for the PDF and the stacks print.css uses (--serif, --sans, --mono).

    Each group has families of its own (WeasyPrint tells embedded fonts apart
    by family, weight and style only), behind the book's Latin family. The
    book's [style] text-font and heading-font come first in their stacks;
    the book's own faces come after the scripts' (a character nothing else
    draws may be drawn by them), named by their BOOK_URL in the book `root`.
    """
    from .resources import book_url

    rules = [book_face_rules(choice, lambda face: book_url(face.path, root)).rstrip("\n")] \
        if choice.faces and root is not None else []
    stacks = {"serif": ['"Book Serif"'], "sans": ['"Book Sans"'], "mono": ['"Book Mono"']}
    for role, first in (("serif", choice.text), ("sans", choice.heading)):
        if first and first != stacks[role][0].strip('"'):
            stacks[role].insert(0, f'"{first}"')
    for group in plan.groups:
        index = plan.index(group)
        for role in ("serif", "sans"):
            for face in plan.faces(group, role):
                rules.append(_face_rule(family(role, group), face_url(face, index), face, group, index))
        stacks["serif"].append(f'"{family("serif", group)}"')
        stacks["sans"].append(f'"{family("sans", group)}"')
        stacks["mono"].append(f'"{family("sans", group)}"')
    for family_name in dict.fromkeys(face.family for face in choice.faces):
        for stack in stacks.values():
            if f'"{family_name}"' not in stack:
                stack.append(f'"{family_name}"')
    generic = {"serif": "serif", "sans": "sans-serif", "mono": "monospace"}

    def variables(stacks: dict[str, list[str]]) -> str:
        return "; ".join(f"--{role}: {', '.join(stack)}, {generic[role]}" for role, stack in stacks.items())

    rules.append(f"html:root {{ {variables(stacks)}; }}")
    # An article in another CJK language: the same stacks with its face instead
    # of the book's, on the <article> that carries its lang (booklet.html).
    cjk = next((group for group in plan.groups if group.collection), None)
    for tag, index in plan.cjk_articles:
        own = {}
        for role in ("serif", "sans"):
            name = f"{family(role, cjk)} {CJK_NAMES[index]}"
            own[family(role, cjk)] = name
            rules += [_face_rule(name, face_url(face, index), face, cjk, index) for face in plan.faces(cjk, role)]
        swapped = {role: [f'"{own.get(name.strip(chr(34)), name.strip(chr(34)))}"' for name in stack]
                   for role, stack in stacks.items()}
        # (and its entry in the contents: booklet.html gives it the article's lang)
        rules.append(f'article[lang="{tag}"], li[lang="{tag}"] {{ {variables(swapped)}; font-family: var(--serif); }}')
    return "\n".join(rules) + "\n"


def _face_rule(name: str, url: str, face: Face, group: ScriptGroup, index: int) -> str:
    return (f'@font-face {{ font-family: "{name}"; src: url("{url}"); font-weight: {face.weight}; '
            f"unicode-range: {css_range(unicode_range(group, face, index))}; }}")


def face_url(face: Face, index: int) -> str:
    """A file: URL for the face; a collection's face is named by its index."""
    url = face.path.as_uri()
    return f"{url}#{index}" if face.file.endswith(".ttc") else url


@lru_cache(maxsize=16)
def face_subset(path: Path, index: int, characters: str) -> bytes:
    """One face of a collection (the CJK faces: 20 MB each), as a font of its
    own reduced to `characters` (the book's), by HarfBuzz's subsetter. Glyphs
    and layout features are kept as they are, so laying a part out with a
    subset made for other text gives the same pages."""
    import uharfbuzz as hb

    request = hb.SubsetInput()
    request.unicode_set.update(ord(character) for character in characters)
    return hb.subset(hb.Face(hb.Blob.from_file_path(str(path)), index), request).blob.data


@dataclass(frozen=True)
class EpubFont:
    name: str  # file name in the EPUB's fonts/ folder
    family: str
    weight: int
    source: Path
    index: int
    runs: tuple[tuple[int, int], ...]


def epub_fonts(plan: FontPlan, cjk_index: int | None = None) -> list[EpubFont]:
    """The script faces to embed in the EPUB: serif faces (bold too) and sans
    bold, as epub.css uses. With `cjk_index`: only the CJK faces of that
    index (the stylesheet of articles in another CJK language than the book's)."""
    fonts = []
    for group in plan.groups:
        if cjk_index is not None and not group.collection:
            continue
        index = plan.index(group) if cjk_index is None else cjk_index
        chosen = [("Book Serif", face) for face in group.serif]
        chosen += [("Book Sans", face) for face in group.sans if face.weight == 700]
        for name, face in chosen:
            stem = Path(face.file).stem + (f"-{CJK_NAMES[index]}" if group.collection else "")
            suffix = ".otf" if group.collection else Path(face.file).suffix
            fonts.append(EpubFont(f"{stem}{suffix}", name, face.weight, face.path, index,
                                  unicode_range(group, face, index)))
    return list({font.name + font.family: font for font in fonts}.values())


def epub_css(fonts: list[EpubFont]) -> str:
    """Script faces join the book's families, limited by unicode-range (CSS's own composite fonts)."""
    weights = {400: "normal", 700: "bold"}
    return "".join(f'@font-face {{ font-family: "{font.family}"; src: url(../fonts/{font.name}); '
                   f"font-weight: {weights.get(font.weight, font.weight)}; font-style: {style}; "
                   f"unicode-range: {css_range(font.runs)}; }}\n"
                   for font in fonts for style in ("normal", "italic"))


# ---------- the book's text, and what cannot be drawn ----------


def book_text(book: "Book", words: dict[str, str]) -> str:
    """Every character the book may print: book.toml's values, the labels,
    each article's front matter and (Markdown) body. A superset of what is
    drawn, so the plan and the diagnostics agree whatever the exporter."""
    config = book.config
    parts = [config.title, config.subtitle, config.publisher, config.description, config.notice,
             config.rights, config.date, config.identifier, config.isbn, *config.authors, *config.keywords,
             *words.values(), *config.notice_lines]
    from .text.quotes import quotes_for  # (plain Python: no renderer is started)

    languages = {config.language}
    for article in book.articles:
        parts += [article.title, article.subtitle, article.summary, article.blurb, *article.authors, article.body]
        if article.language:  # its references and captions: "図 2"
            parts += words_for(article, config).values()
            languages.add(article.language)
    # The quotes the renderer puts for straight ones ("…" -> 「…」 in Japanese),
    # which the manuscripts do not hold: a face subset to the text needs them.
    parts += ["".join(quotes_for(language)) + "’" for language in sorted(languages)]
    return "\n".join(parts)


def _sources(book: "Book") -> list[tuple[Path, str]]:
    """book.toml (the text the loader kept) and the manuscripts, to locate
    characters: read through the gate, and skipped when unreadable (a
    book.toml that is a link out of the book, or not UTF-8, was reported
    when the book was loaded)."""
    from .resources import ResourceRefused, read_bytes

    source = book.config_source
    sources = [(source.path, source.text)] if source is not None else []
    for path in dict.fromkeys(a.source_path for a in book.articles):
        try:
            text = read_bytes(path, (book.root,)).decode("utf-8-sig")
        except (ResourceRefused, OSError, UnicodeDecodeError):
            continue
        sources.append((path, text.replace("\r\n", "\n").replace("\r", "\n")))
    return sources


def font_diagnostics(book: "Book", words: dict[str, str]) -> list["Diagnostic"]:
    """One R007 per script no installed font of the table draws: how many
    characters, the first three places, and the package to install."""
    from .diagnostics import warning

    plan = book_fonts(book, words)
    sources = _sources(book) if plan.missing else []
    found = []
    for missing in plan.missing:
        count, places = missing_locations(missing, sources)
        sample = ", ".join(f"'{c}' U+{ord(c):04X}" for c in missing.characters[:3]) + \
            (", …" if len(missing.characters) > 3 else "")
        where = ", ".join(f"{path.name}:{line}:{column}" for path, line, column in places)
        path, line, column = places[0] if places else (book.config_path, 1, 1)
        hint = (f"install the Debian package {missing.package} (apt install {missing.package})"
                if missing.package else
                f"no font of the book draws this script: put a font that does into "
                f"{book.root / 'styles' / 'fonts'}/ (the book's own fonts, used wherever the others lack "
                "a character), or remove the characters")
        found.append(warning("R007", f"{count} character(s) of {missing.script} script ({sample}) "
                                     f"cannot be drawn by any font of the book; first at {where or 'the labels'}",
                             hint=hint, path=path, line=line, column=column))
    return found
