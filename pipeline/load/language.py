"""Which language a text is written in, and whether that is the language
its book or article says it is.

A language tag steers hyphenation, quotes, direction and the EPUB's
metadata, yet nothing else checks it: `language = "uk"` (meant: United
Kingdom) makes an English book Ukrainian without a word. The text is read
by py3langid (Naive Bayes over byte n-grams, 97 languages, offline) after
what is not prose is taken out (code, URLs, HTML tags, front matter), and
only a long text read with high confidence is judged. The model takes
about a second to load, so it is loaded once per process, and only when a
text is long enough to be judged.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

MIN_LETTERS = 200  # letters of prose below which no text is judged
MIN_CONFIDENCE = 0.95  # the detector's probability below which it is unsure
MAX_CHARACTERS = 20_000  # prose read per text: enough to be sure, bounded in time

# Labels of the detector that are no language (zxx: no linguistic content)
# or a variety judged as its macrolanguage (Moroccan and Egyptian Arabic;
# Southern Uzbek); others are BCP 47 primary subtags as they are.
_AS_TAG = {"zxx": None, "ary": "ar", "arz": "ar", "uzs": "uz", "gug": "gn", "hbo": "he"}

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})[^\n]*\n.*?(?:^ {0,3}\1[`~]*[ \t]*$|\Z)", re.M | re.S)
_MATH_BLOCK = re.compile(r"\$\$.*?\$\$", re.S)
_FRONT_MATTER = re.compile(r"\A(?:---|\+\+\+)[ \t]*\n.*?\n(?:---|\+\+\+|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_HTML_BLOCK = re.compile(r"<(script|style|pre|code|svg|math)\b.*?</\1\s*>", re.S | re.I)
_NOISE = re.compile(
    r"`[^`\n]*`"  # inline code
    r"|\]\([^)\n]*\)"  # a link's or image's target
    r"|^\s*\[[^\]\n]+\]:\s*\S+.*$"  # a link reference definition
    r"|<[^<>\n]*>"  # an HTML tag, an autolink
    r"|\b(?:https?|ftp|mailto):[^\s)>\]]+"  # a bare URL
    r"|\bwww\.[^\s)>\]]+"
    r"|\{\{[<%].*?[%>]\}\}|\{%.*?%\}|\{\{.*?\}\}"  # shortcodes and template tags
    r"|\$[^$\n]+\$"  # inline math
    r"|&[#\w]+;",  # character references
    re.M)


def prose(text: str) -> str:
    """The prose of a Markdown manuscript: front matter, code blocks and
    spans, URLs, HTML tags, math and template tags taken out (they are no
    language, or every language's: `for i in range` reads as English)."""
    text = _FRONT_MATTER.sub("", text, count=1)
    for pattern in (_FENCE, _MATH_BLOCK, _HTML_COMMENT, _HTML_BLOCK, _NOISE):
        text = pattern.sub(" ", text)
    return text


def letters(text: str) -> int:
    """How many letters `text` has (of any script)."""
    return sum(1 for character in text if character.isalpha())


@lru_cache(maxsize=1)
def _identifier():
    """py3langid's identifier with probabilities that sum to 1 (its model
    unpacked once per process: about a second)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect(text: str) -> tuple[str, float] | None:
    """(BCP 47 primary tag, probability) of the prose `text` (already taken
    out of its markup by `prose`), or None when it is too short to judge or
    reads as no language."""
    text = text[:MAX_CHARACTERS]
    if letters(text) < MIN_LETTERS:
        return None
    label, confidence = _identifier().classify(text)
    tag = _AS_TAG.get(label, label)
    return (tag, confidence) if tag else None


def guess_language(text: str) -> str | None:
    """The language a manuscript (or any Markdown text) is written in, as a
    BCP 47 primary tag ("en", "de", "zh"), or None when unsure: fewer than
    MIN_LETTERS letters of prose, or the detector below MIN_CONFIDENCE.
    For `pipeline init` and the loader's check of declared languages."""
    found = detect(prose(text))
    if found is None or found[1] < MIN_CONFIDENCE:
        return None
    return found[0]


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
# A language's script as langcodes gives it -> the scripts its letters are in.
_WRITTEN_IN = {"Jpan": {"Hani", "Hira", "Kana"}, "Kore": {"Hang", "Hani"}, "Hans": {"Hani"},
               "Hant": {"Hani"}}


def script_of(text: str) -> tuple[str, float]:
    """The script most letters of `text` are in (ISO 15924: "Latn",
    "Cyrl", "Hani"...) and the share of letters in it; ("", 0.0) without letters."""
    counts: dict[str, int] = {}
    for character in text[:MAX_CHARACTERS]:
        if character.isalpha():
            name = unicodedata.name(character, "").split(" ", 1)[0]
            script = _SCRIPTS.get(name, name)
            counts[script] = counts.get(script, 0) + 1
    if not counts:
        return "", 0.0
    script = max(counts, key=counts.get)
    return script, counts[script] / sum(counts.values())
