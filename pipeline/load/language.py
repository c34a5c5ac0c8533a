"""Which language a text is written in, and whether that is the language
its book or article says it is (C012, M014).

A language tag steers hyphenation, quotes, direction and the EPUB's
metadata, yet nothing else checks it: `language = "uk"` (meant: the United
Kingdom) makes an English book Ukrainian without a word. The text is read by
py3langid (Naive Bayes over byte n-grams, 97 languages, offline) after what
is not prose is taken out (code, URLs, HTML tags, front matter), and only a
long text read with high confidence is judged: a warning that is wrong is
worse than none. Its model takes about a second to unpack, so it is unpacked
once per machine (`langmodel`), read once per process, and only when some
text is long enough to be judged.
"""

from __future__ import annotations

import re
import shutil
import threading
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

from ..diagnostics import Diagnostic, warning
from ..text.sourcetext import ConfigSource

MIN_LETTERS = 200  # letters of prose below which no text is judged
MIN_CONFIDENCE = 0.95  # the detector's probability below which it is unsure
CERTAIN = 0.99  # ... and at which a mismatch in one script is reported
UNLIKELY = 0.01  # the declared language's probability at most, for that
MAX_SOURCE = 20_000  # characters of a manuscript read for its prose: every pass over it bounded
MAX_PROSE = 2_000  # characters of prose judged: some 300 words, enough to be sure; about a millisecond
RANKER_SECONDS = 60  # the ranker's process waited for at most (it takes well under a second)

# Labels of the detector that are no language (zxx: no linguistic content)
# or a variety judged as its macrolanguage; the others are BCP 47 tags.
_AS_TAG = {"zxx": "", "ary": "ar", "arz": "ar", "uzs": "uz", "gug": "gn", "hbo": "he", "nn": "no", "nb": "no"}

# Languages a text cannot tell apart for sure (one written standard read as
# another's, a variety as its neighbour): one declared and another detected
# is no mismatch. Tags in their macrolanguage form (nb -> no).
_KIN = (frozenset({"no", "da"}), frozenset({"hr", "sr", "bs", "sh", "cnr"}), frozenset({"ms", "id"}),
        frozenset({"zh", "yue", "wuu", "lzh", "hak", "nan"}), frozenset({"fa", "prs"}), frozenset({"gl", "pt"}),
        frozenset({"ca", "oc", "an"}), frozenset({"es", "ast", "ext", "an"}), frozenset({"cs", "sk"}),
        frozenset({"bg", "mk"}), frozenset({"af", "nl", "fy", "li"}), frozenset({"de", "lb", "gsw", "bar"}),
        frozenset({"ku", "ckb", "sdh", "kmr"}), frozenset({"bo", "dz"}), frozenset({"el", "grc"}),
        frozenset({"hi", "mr", "ne", "sa", "mai", "bho"}), frozenset({"it", "vec", "lij"}),
        frozenset({"fr", "wa"}), frozenset({"ht", "gcf", "gcr"}), frozenset({"ar", "mt"}))


# ---- prose: what of a manuscript is language -------------------------------------------

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_HTML_BLOCK = re.compile(r"<(script|style|pre|code|svg|math|kbd|samp)\b", re.I)
_NOISE = re.compile(
    # Every kind begins with one of these characters, or is a line's link reference definition: said
    # first, so that the scan passes over other characters without trying each alternative there.
    r"(?=[`\]<{$&hfmw]|^[ \t]*\[)(?:"
    r"`[^`\n]*`"  # inline code
    r"|\]\([^)\n]{0,500}\)"  # a link's or image's target (every part bounded: no scan runs to each line's end)
    r"|^[ \t]*\[[^\]\n]{1,500}\]:[ \t]*\S.*$"  # a link reference definition
    r"|<[^<>\n]*>"  # an HTML tag, an autolink
    r"|\b(?:https?|ftp|mailto):[^\s)>\]]+|\bwww\.[^\s)>\]]+"  # a bare address
    r"|\{\{[<%][^\n]{0,300}?[%>]\}\}|\{%[^\n]{0,300}?%\}|\{\{[^\n]{0,300}?\}\}"  # shortcodes, template tags
    r"|\$\$[^$]{0,5000}\$\$|\$[^$\n]{1,500}\$"  # math
    r"|&[#\w]+;)",  # character references
    re.M)
_FRONT_MATTER = re.compile(r"(---|\+\+\+)[ \t]*\n")


def prose(text: str) -> str:
    """The prose of a Markdown manuscript (its first MAX_SOURCE characters):
    front matter, fenced and HTML code blocks, code spans, URLs, HTML tags,
    math and template tags taken out. They are no language, or everyone's:
    `for i in range` reads as English in any book."""
    text = _without_code_blocks(_without_front_matter(text[:MAX_SOURCE]))
    return _NOISE.sub(" ", text)


def _without_front_matter(text: str) -> str:
    opened = _FRONT_MATTER.match(text)
    if not opened:
        return text
    closing = re.search(rf"^(?:{re.escape(opened.group(1))}|\.\.\.)[ \t]*$", text[opened.end():], re.M)
    return text[opened.end() + closing.end():] if closing else text


def _without_code_blocks(text: str) -> str:
    """`text` without its fenced code blocks (an unclosed one runs to the end,
    as CommonMark reads it) and its <pre>, <script>, <svg>... elements: one
    pass over the lines, one search for each element's end."""
    kept, fence = [], ""
    for line in text.split("\n"):
        opened = _FENCE.match(line)
        if fence:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence) \
                    and not line[opened.end():].strip():
                fence = ""
        elif opened and not (opened.group(1)[0] == "`" and "`" in line[opened.end():]):
            fence = opened.group(1)
        else:
            kept.append(line)
    text, parts, start = "\n".join(kept), [], 0
    for found in _HTML_BLOCK.finditer(text):
        if found.start() < start:
            continue
        parts.append(text[start:found.start()])
        end = text.lower().find(f"</{found.group(1).lower()}", found.end())
        start = len(text) if end < 0 else end
    return "".join(parts) + text[start:]


_LETTER = re.compile(r"[^\W\d_]")


def letters(text: str) -> int:
    """How many letters `text` has (of any script)."""
    return len(_LETTER.findall(text))


# ---- the detector ---------------------------------------------------------------------

_loading = threading.Lock()
_loaded: list = []  # the identifier, once unpacked
_preloading: list[threading.Thread] = []  # the thread of `preload`, until it is waited for


def _identifier():
    """py3langid's identifier, with probabilities that sum to 1: its model
    read once per process (mapped from the machine's cache, `langmodel`), by
    whichever thread asks first; the others wait for it."""
    with _loading:
        if not _loaded:
            from .langmodel import identifier

            _loaded.append(identifier())
    return _loaded[0]


def preload() -> threading.Thread | None:
    """Start unpacking the detector's model in a thread, so that it overlaps
    the reading of the book (unpacking xz releases the GIL); None when it is
    loaded already. `check_languages` waits for it."""
    if _loaded:
        return None
    thread = threading.Thread(target=_identifier, name="language-model", daemon=True)
    thread.start()
    _preloading.append(thread)
    return thread


def _wait_for_preload() -> None:
    """The preloading thread finished: none runs on when the build goes on
    (and forks its layout workers, which must not inherit a held lock)."""
    while _preloading:
        _preloading.pop().join()


def _ranked(text: str) -> dict[str, float]:
    """Each language's probability for prose `text` (detector labels as
    tags, varieties summed into their macrolanguage), most likely first."""
    scores: Counter[str] = Counter()
    for label, probability in _identifier().rank(text):
        tag = _AS_TAG.get(label, label)
        if tag:
            scores[tag] += probability
    return dict(scores.most_common())


def _sample(text: str) -> str | None:
    """The prose a judgement reads (at most MAX_PROSE characters), None when
    it has too few letters to judge."""
    sample = " ".join(text[:4 * MAX_PROSE].split())[:MAX_PROSE]
    return sample if letters(sample) >= MIN_LETTERS else None


def guess_language(text: str) -> str | None:
    """The language a manuscript (or any Markdown text) is written in, as a
    BCP 47 primary tag ("en", "de", "zh"), or None when unsure: fewer than
    MIN_LETTERS letters of prose, or no language MIN_CONFIDENCE likely.
    For `pipeline init` and the loader's check of declared languages."""
    sample = _sample(prose(text))
    if sample is None:
        return None
    tag, probability = next(iter(_ranked(sample).items()))
    return tag if probability >= MIN_CONFIDENCE else None


# ---- scripts --------------------------------------------------------------------------

# Unicode's name of a letter starts with its script's name; these are the
# scripts' ISO 15924 codes, as langcodes gives a language's likely script.
_SCRIPTS = {
    "LATIN": "Latn", "CYRILLIC": "Cyrl", "GREEK": "Grek", "ARABIC": "Arab", "HEBREW": "Hebr",
    "DEVANAGARI": "Deva", "BENGALI": "Beng", "GURMUKHI": "Guru", "GUJARATI": "Gujr", "ORIYA": "Orya",
    "TAMIL": "Taml", "TELUGU": "Telu", "KANNADA": "Knda", "MALAYALAM": "Mlym", "SINHALA": "Sinh",
    "THAI": "Thai", "LAO": "Laoo", "TIBETAN": "Tibt", "MYANMAR": "Mymr", "GEORGIAN": "Geor",
    "HANGUL": "Hang", "ETHIOPIC": "Ethi", "KHMER": "Khmr", "ARMENIAN": "Armn", "THAANA": "Thaa",
    "CJK": "Hani", "HIRAGANA": "Hira", "KATAKANA": "Kana", "MONGOLIAN": "Mong", "SYRIAC": "Syrc",
}
# A script as langcodes names a language's -> the scripts of its letters.
_LETTERS_IN = {"Jpan": {"Hani", "Hira", "Kana"}, "Kore": {"Hang", "Hani"}, "Hans": {"Hani"}, "Hant": {"Hani"}}


def script_of(text: str) -> str:
    """The script most letters of `text` are in (ISO 15924: "Latn", "Cyrl",
    "Hani"...), by its first 400 letters; '' without letters."""
    counts: Counter[str] = Counter()
    for character in text:
        if character.isalpha():
            name = unicodedata.name(character, "").split(" ", 1)[0]
            counts[_SCRIPTS.get(name, name)] += 1
            if counts.total() >= 400:
                break
    return counts.most_common(1)[0][0] if counts else ""


@lru_cache(maxsize=256)
def _scripts(tag: str) -> frozenset[str]:
    """The scripts a language tag's letters are in: its script subtag's, else
    its language's likely one (langcodes); empty when unknown."""
    import langcodes

    try:
        script = langcodes.Language.get(tag).maximize().script or ""
    except (ValueError, LookupError):
        return frozenset()
    return frozenset(_LETTERS_IN.get(script, {script})) if script else frozenset()


# ---- judging a declared language ---------------------------------------------------------

# Two-letter language subtags that langcodes replaces (deprecated or folded
# into another language); every other one is its own macrolanguage form.
_REPLACED_TWO_LETTERS = frozenset({"bh", "in", "iw", "ji", "jw", "mo", "sh", "tl", "tw"})
_PLAIN_TAG = re.compile(r"([a-z]{2})(?:-[A-Z]{2})?")


@lru_cache(maxsize=256)
def primary_language(tag: str) -> str:
    """A tag's language in its macrolanguage form, lower case ('nb-NO' -> 'no',
    'cmn' -> 'zh'). A plain 'en' or 'en-GB' is read without langcodes, whose
    registry takes 0.1 s to load: a tenth of a short book's Typst build."""
    plain = _PLAIN_TAG.fullmatch(tag)
    if plain and plain.group(1) not in _REPLACED_TWO_LETTERS:
        return _AS_TAG.get(plain.group(1), plain.group(1))
    import langcodes

    try:
        tag = langcodes.standardize_tag(tag, macro=True)
    except (ValueError, LookupError):
        pass
    primary = tag.split("-", 1)[0].lower()
    return _AS_TAG.get(primary, primary) or primary


def _kin(one: str, other: str) -> bool:
    return one == other or any(one in group and other in group for group in _KIN)


@dataclass(frozen=True)
class Reading:
    """What a text reads as, against the language it says it is in."""

    declared: str
    detected: str  # BCP 47 primary tag; '' when the text cannot be judged
    mismatch: bool = False

    @property
    def suggestion(self) -> str:
        """The tag the author most likely meant: 'uk' written for the United
        Kingdom is English there, else the detected language."""
        return "en-GB" if primary_language(self.declared) == "uk" and self.detected == "en" else self.detected


def read_as(declared: str, text: str, ranked: Callable[[str], dict[str, float]] | None = None) -> Reading:
    """Whether prose `text` (see `prose`) is in the `declared` language. A
    mismatch is reported only when it is certain: another script than the
    language's, the detector sure (MIN_CONFIDENCE); or one script, the
    detector all but certain (CERTAIN) and the declared language, which it
    knows, all but excluded (UNLIKELY). Languages a detector confuses (_KIN)
    never mismatch each other."""
    sample = _sample(text)
    if sample is None:
        return Reading(declared, "")
    ranked_as = (ranked or _ranked)(sample)
    if not ranked_as:  # the ranking process could not read it
        return Reading(declared, "")
    detected, probability = next(iter(ranked_as.items()))
    if probability < MIN_CONFIDENCE:
        return Reading(declared, "")
    ours = primary_language(declared)
    if _kin(ours, detected):
        return Reading(declared, detected)
    expected, script = _scripts(declared), script_of(sample)
    if expected and script not in expected and script in _scripts(detected):
        return Reading(declared, detected, mismatch=True)
    sure = probability >= CERTAIN and ours in ranked_as and ranked_as[ours] <= UNLIKELY
    return Reading(declared, detected, mismatch=sure)


def language_name(tag: str) -> str:
    """'Ukrainian' for 'uk', 'English (United Kingdom)' for 'en-GB'; the tag
    itself when langcodes has no name for it."""
    import langcodes

    try:
        name = langcodes.Language.get(tag).display_name()
    except (ValueError, LookupError):
        return tag
    return tag if name.lower().startswith("unknown") else name


def language_tag_named(text: str) -> str:
    """The tag of the language `text` names, in English or in itself
    ('english' -> 'en', 'Deutsch' -> 'de', 'Français' -> 'fr'), by
    langcodes' names (the language_data package); '' when it names none."""
    import langcodes

    if not re.fullmatch(r"[^\W\d_]{3,}(?:[ ()]+[^\W\d_]+)*\)?", text.strip()) or len(text) > 100:
        return ""  # a name, not a tag gone wrong ('en-' is no prefix of a name to complete)
    try:
        return langcodes.find(text.strip()).to_tag()
    except (ValueError, LookupError):
        return ""


# ---- the loader's check ------------------------------------------------------------------

@dataclass(frozen=True)
class Origin:
    """Where the book's language was said: the file and line to point at,
    and how the fix is written there."""

    path: Path
    line: int = 0
    column: int = 0
    default: bool = False  # no file says it: 'en' by default
    toml: bool = True  # book.toml ('language = "de"'), else the site's own config


def check_languages(language: str, origin: Origin, articles: Sequence, root: Path,
                    ranked: Callable[[str], dict[str, float]] | None = None) -> list[Diagnostic]:
    """C012 when most judged articles that take the book's `language` read
    as another; else M014 for each such article that does, and for each
    article whose own language (front matter, file name) its text is not.
    The samples are ranked by the model in this process, or by `ranked`."""
    found: list[Diagnostic] = []
    taking_book: list[tuple[object, Reading]] = []
    for article in articles:
        declared = article.language or language
        reading = read_as(declared, prose(article.body), ranked)
        if article.language:
            if reading.mismatch:
                found.append(_article_mismatch(article, reading, root))
        elif reading.detected:
            taking_book.append((article, reading))
    _wait_for_preload()
    wrong = [(article, reading) for article, reading in taking_book if reading.mismatch]
    if wrong and 2 * len(wrong) > len(taking_book):
        detected = Counter(reading.detected for _, reading in wrong).most_common(1)[0][0]
        return [_book_mismatch(language, detected, origin, len(wrong), len(taking_book))] + found
    return [_taking_book_mismatch(article, reading) for article, reading in wrong] + found


class Ranker:
    """py3langid in a process of its own (a `Standby`), started as the book
    begins to load: it reads its model while the book is read, then ranks
    the samples it is given (`check`) while the build goes on."""

    def __init__(self) -> None:
        from ..standby import Standby

        self._standby = Standby("pipeline.load.language:_rank_samples")

    def stop(self) -> None:
        """Nothing to rank (the book had no language to check, or its loading
        failed): the process ends, not waited for to get ready."""
        self._standby.stop()

    def check(self, language: str, origin: Origin, articles: Sequence,
              root: Path) -> Callable[[], list[Diagnostic]]:
        """`check_languages`, begun: the samples ranked in the process, judged
        by the function returned, which waits for it. Where the process
        fails, the samples are ranked here."""
        import json
        import subprocess

        from .. import scratch

        samples = sorted({sample for article in articles if (sample := _sample(prose(article.body)))})
        if not samples:
            self.stop()
            return lambda: check_languages(language, origin, articles, root, lambda sample: {})
        folder = scratch.made("language")
        (folder / "samples.json").write_text(json.dumps(samples), encoding="utf-8")
        told = self._standby.tell(folder)

        def finish() -> list[Diagnostic]:
            try:
                self._standby.process.wait(timeout=RANKER_SECONDS)
                ranked = dict(zip(samples, json.loads((folder / "ranked.json").read_text(encoding="utf-8")))) \
                    if told else {}
            except subprocess.TimeoutExpired:  # (a stuck process: killed, the samples ranked here)
                self._standby.process.kill()
                self._standby.process.wait()
                ranked = {}
            except (OSError, ValueError):
                ranked = {}
            finally:
                shutil.rmtree(folder, ignore_errors=True)
            return check_languages(language, origin, articles, root,
                                   lambda sample: ranked[sample] if sample in ranked else _ranked(sample))
        return finish


def _rank_samples() -> None:
    """The process of a `Ranker`: the model read first, then the folder it
    is told ranked (its samples.json in, ranked.json out)."""
    import json

    from ..standby import wait_for_work

    _identifier()
    folder = wait_for_work()
    if folder is None:
        return
    samples = json.loads((folder / "samples.json").read_text(encoding="utf-8"))
    ranked = [_ranked(sample) for sample in samples]
    (folder / "ranked.tmp").write_text(json.dumps(ranked), encoding="utf-8")
    (folder / "ranked.tmp").replace(folder / "ranked.json")


def _book_mismatch(language: str, detected: str, origin: Origin, wrong: int, judged: int) -> Diagnostic:
    reading = Reading(language, detected, True)
    meant = reading.suggestion
    share = "" if wrong == judged else f" ({wrong} of the {judged} articles long enough to tell)"
    if origin.default:
        message = (f"the book's language is '{language}' ({language_name(language)}), the default, but its "
                   f"text reads as {language_name(detected)}{share}")
        hint = f"set it in book.toml: language = \"{meant}\" in [book]"
    else:
        message = (f"language '{language}' is {language_name(language)}, but the text reads as "
                   f"{language_name(detected)}{share}: did you mean '{meant}'?")
        hint = f"write language = \"{meant}\"" if origin.toml else f"set the site's language to '{meant}'"
        if primary_language(language) == "uk" and meant == "en-GB":
            hint = f"'uk' is the Ukrainian language, not the United Kingdom: {hint}"
        hint += " (the language sets hyphenation, quotation marks and the EPUB's language)"
    return warning("C012", message, hint=hint, path=origin.path, line=origin.line, column=origin.column)


def _article_mismatch(article, reading: Reading, root: Path) -> Diagnostic:
    line, column, key = _front_matter_language(article, root)
    meant = reading.suggestion
    hint = f"write {key}: {meant}" if key else f"give it its own language: add 'language: {meant}' to its front matter"
    if primary_language(reading.declared) == "uk" and meant == "en-GB":
        hint = f"'uk' is the Ukrainian language, not the United Kingdom: {hint}"
    return warning("M014", f"language '{reading.declared}' is {language_name(reading.declared)}, but the "
                           f"article's text reads as {language_name(reading.detected)}: did you mean '{meant}'?",
                   hint=hint, path=article.source_path, line=line, column=column)


def _taking_book_mismatch(article, reading: Reading) -> Diagnostic:
    return warning("M014", f"the article's text reads as {language_name(reading.detected)}, but it takes the "
                           f"book's language '{reading.declared}' ({language_name(reading.declared)})",
                   hint=f"give it its own: add 'language: {reading.detected}' to its front matter",
                   path=article.source_path, line=1, column=1)


_LANGUAGE_KEY = re.compile(r"""^[ \t]*["']?(language|lang|locale)["']?[ \t]*[:=][ \t]*""", re.M)


def _front_matter_language(article, root: Path) -> tuple[int, int, str]:
    """Line, value column and key of the front matter's language line; (1,
    1, '') when the file's name gave it (`post.fr.md`) or it cannot be read."""
    from ..resources import ResourceRefused, read_bytes
    from ..text.sourcetext import NotUtf8, decode

    try:
        text = decode(read_bytes(article.source_path, (root,)))
    except (ResourceRefused, NotUtf8, OSError):
        return 1, 1, ""
    head = "\n".join(text.split("\n", article.body_line)[:max(article.body_line - 1, 0)])
    found = _LANGUAGE_KEY.search(head)
    if not found:
        return 1, 1, ""
    line = head.count("\n", 0, found.start()) + 1
    return line, found.end() - (head.rfind("\n", 0, found.end()) + 1) + 1, found.group(1)


def book_origin(root: Path, source: ConfigSource | None, language: str, site) -> Origin | None:
    """Where the book's `language` was said: book.toml's [book] language line
    (`source`, the text the loader read; None when there is no book.toml),
    the site's own config, or nowhere (the default 'en', C004 or not). None
    when book.toml is no valid TOML or gives a language the loader refused
    (C001, C003 say so)."""
    if source is not None:
        if source.tables() is None:
            return None
        given = source.given("book")
        if "language" in given:
            if given["language"] != language:
                return None
            return Origin(source.path, *source.value_of("book", "language"))
    if getattr(site, "language", "") == language and getattr(site, "config", None) is not None:
        return Origin(site.config, *_site_line(site.config, root, language), toml=False)
    if source is not None and source.text:
        return Origin(source.path, source.line_of(None, "book")[0], 1, default=True)
    return Origin(root, default=True)


def _site_line(path: Path, root: Path, value: str) -> tuple[int, int]:
    """Line and column of a site config's language value (hugo.toml's
    languageCode, mkdocs.yml's theme language...): the first line naming a
    language or locale that holds it."""
    from ..resources import ResourceRefused, read_bytes
    from ..text.sourcetext import NotUtf8, decode

    try:
        text = decode(read_bytes(path, (root,)))
    except (ResourceRefused, NotUtf8, OSError):
        return 1, 1
    for number, line in enumerate(text.split("\n"), start=1):
        if re.search(r"lang|locale", line, re.I) and value in line:
            return number, line.find(value) + 1
    return 1, 1
