"""What a language tag tells the layout: its writing direction.

One table of the languages written right to left; a tag's script subtag
(`pa-Arab`, `az-Arab`) counts too.
"""

from __future__ import annotations

import re

RTL_LANGUAGES = frozenset({"ar", "fa", "ur", "he", "yi", "ps", "ckb", "sd", "ug", "dv", "iw", "ji"})
RTL_SCRIPTS = frozenset({"arab", "hebr", "thaa", "syrc", "nkoo", "adlm", "rohg"})
# BCP 47, loosely: a primary subtag and subtags of letters and digits. Enough
# to keep a tag from book.toml or front matter safe inside CSS and markup.
TAG = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")


def direction(language: str) -> str:
    """"rtl" or "ltr" for a BCP 47 tag."""
    subtags = language.lower().split("-")
    if subtags[0] in RTL_LANGUAGES or any(tag in RTL_SCRIPTS for tag in subtags[1:]):
        return "rtl"
    return "ltr"


def is_rtl(language: str) -> bool:
    return direction(language) == "rtl"
