"""Typographic quotes in the language of the text: straight quotes typed in a
manuscript ("..." and '...') become the language's own („…“ in German,
« … » with narrow no-break spaces in French, 「…」 in Japanese), and an
apostrophe between letters becomes ’.

It works on the rendered tree, after the Markdown parser, so it does not
depend on which parser made the tree; code is never touched.
"""

from __future__ import annotations

import re

from lxml import etree

NNBSP = "\u202f"  # narrow no-break space, inside French guillemets

# (open double, close double, open single, close single), by language
QUOTES: dict[str, tuple[str, str, str, str]] = {
    "en": ("“", "”", "‘", "’"),
    "de": ("„", "“", "‚", "‘"),
    "fr": ("«" + NNBSP, NNBSP + "»", "‹" + NNBSP, NNBSP + "›"),
    "es": ("«", "»", "“", "”"),
    "it": ("«", "»", "“", "”"),
    "pt": ("«", "»", "“", "”"),
    "pt-br": ("“", "”", "‘", "’"),
    "nl": ("“", "”", "‘", "’"),
    "pl": ("„", "”", "«", "»"),
    "ru": ("«", "»", "„", "“"),
    "uk": ("«", "»", "„", "“"),
    "tr": ("“", "”", "‘", "’"),
    "el": ("«", "»", "“", "”"),
    "ar": ("«", "»", "“", "”"),
    "fa": ("«", "»", "“", "”"),
    "ur": ("“", "”", "‘", "’"),
    "he": ("”", "”", "’", "’"),
    "hi": ("“", "”", "‘", "’"),
    "bn": ("“", "”", "‘", "’"),
    "ja": ("「", "」", "『", "』"),
    "zh-hans": ("“", "”", "‘", "’"),
    "zh-hant": ("「", "」", "『", "』"),
    "ko": ("“", "”", "‘", "’"),
    "vi": ("“", "”", "‘", "’"),
    "cs": ("„", "“", "‚", "‘"),
    "da": ("»", "«", "›", "‹"),
    "sv": ("”", "”", "’", "’"),
    "fi": ("”", "”", "’", "’"),
}
CODE = {"code", "pre", "kbd", "samp", "script", "style", "{http://www.w3.org/1998/Math/MathML}math"}
_OPENING_CONTEXT = re.compile(r"[\s(\[{\u2014\u2013/\-«‹„‚“‘「『]")


def quotes_for(language: str) -> tuple[str, str, str, str]:
    tag = language.lower()
    subtags = tag.split("-")
    if subtags[0] in ("zh", "yue"):
        traditional = subtags[0] == "yue" or any(s in ("hant", "tw", "hk", "mo") for s in subtags[1:])
        return QUOTES["zh-hant" if traditional else "zh-hans"]
    return QUOTES.get(tag) or QUOTES.get(subtags[0]) or QUOTES["en"]


def smarten_text(text: str, language: str, before: str = "", state: dict[str, bool] | None = None) -> str:
    """`text` with straight quotes made typographic; `before` is the
    character that precedes it (from an earlier text node), `state` which
    quotes are open (carried across text nodes)."""
    if '"' not in text and "'" not in text:
        return text
    open_double, close_double, open_single, close_single = quotes_for(language)
    state = {} if state is None else state
    out = []
    previous = before
    for index, character in enumerate(text):
        following = text[index + 1] if index + 1 < len(text) else ""
        if character == "'" and previous.isalnum() and following.isalpha() and max(previous, following) < "\u2e80":
            out.append("’")  # an apostrophe: don't, l'été
        elif character in "\"'":
            opening = _opens(previous, following, state.get(character, False))
            state[character] = opening
            double = character == '"'
            out.append((open_double if double else open_single) if opening else
                       (close_double if double else close_single))
        else:
            out.append(character)
        previous = character
    return "".join(out)


def _opens(previous: str, following: str, is_open: bool) -> bool:
    """An opening quote? By its neighbours where they tell (a space before, a
    letter after), else by whether one is open (text without spaces: CJK)."""
    before_opens = not previous or bool(_OPENING_CONTEXT.match(previous))
    after_closes = not following or following.isspace() or following in ".,;:!?)]}…"
    if before_opens and not after_closes:
        return True
    if after_closes and not before_opens:
        return False
    return not is_open


def smarten_tree(root: etree._Element, language: str) -> None:
    """Make the quotes of every text node under `root` typographic, in
    document order, leaving code alone."""
    previous = ""
    state: dict[str, bool] = {}

    def visit(element: etree._Element, in_code: bool) -> None:
        nonlocal previous
        code = in_code or (isinstance(element.tag, str) and element.tag in CODE)
        if element.text and isinstance(element.tag, str):
            if not code:
                element.text = smarten_text(element.text, language, previous, state)
            previous = element.text[-1]
        for child in element:
            visit(child, code)
            if child.tail:
                if not code:
                    child.tail = smarten_text(child.tail, language, previous, state)
                previous = child.tail[-1]

    visit(root, False)
