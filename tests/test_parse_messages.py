"""Broken book.toml and front matter, each told in plain words at the line
and column where the writer made the mistake, with a hint that fits it:
not PyYAML's "found character '\\t' that cannot start any token" or
tomllib's "Illegal character '\\n'", and no "quote values that contain
': '" unless that is the problem (pipeline/text/sourcetext.toml_error,
frontmatter._yaml_problem)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.load.config import load_config
from pipeline.load.frontmatter import split
from conftest import ROOT, SHARED

# Words of the parsers that no message may show.
JARGON = ("cannot start any token", "Illegal character", "Cannot overwrite", "Cannot declare", "<block end>",
          "scanning", "Unterminated", "Invalid value", "Expected newline")


def _toml(tmp_path: Path, text: str):
    path = tmp_path / "book.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, "fallback")[1]


def _front(text: str):
    return split(text, Path("a.md"))[1]


# (name, book.toml, code, line, column, words of the message, words of the hint)
TOML_CASES = [
    ("unclosed quote", '[book]\ntitle = "My Book\ndate = "2026-01-01"\n', "C001", 2, 9,
     "the quote opened at 2:9 is never closed", 'end the text with " on the same line: title = "My Book"'),
    ("unclosed quote at the end", "[book]\ntitle = 'My Book", "C001", 2, 9,
     "the quote opened at 2:9 is never closed", "end the text with ' on the same line"),
    ("key given twice", '[book]\ntitle = "A"\nauthors = ["x"]\ntitle = "B"\n', "C001", 4, 1,
     "'title' is given twice (lines 2 and 4)", "keep one of them"),
    ("table given twice", '[book]\ntitle = "A"\n[pdf]\nimpose = true\n[book]\ndate = "2026-01-01"\n', "C001", 5, 1,
     "the table [book] is given twice (lines 1 and 5)", "merge them"),
    ("missing '='", '[book]\ntitle "My Book"\n', "C001", 2, 7,
     "'=' is missing after the key 'title'", 'title = "…"'),
    ("text without quotes", "[book]\ntitle = My Book\n", "C001", 2, 9,
     "My Book is not a TOML value (text goes in quotes)", 'put text in double quotes: title = "My Book"'),
    ("curly quotes", "[book]\ntitle = “My Book”\n", "C001", 2, 9,
     "in curly quotes", 'use straight double quotes: title = "My Book"'),
    ("an impossible date", "[book]\ntitle = \"T\"\ndate = 2026-13-01\n", "C001", 3, 12,
     "2026-13-01 is not a TOML value", "write the date as YYYY-MM-DD in quotes, with a real month and day"),
    ("text after a value", '[book]\ntitle = "x" y\n', "C001", 2, 13,
     "unexpected text after the value: y", "start a comment with #"),
    ("a list without brackets", '[book]\ntitle = "T"\nauthors = "Ann", "Bo"\n', "C001", 3, 16,
     "unexpected text after the value", 'a list goes in brackets: authors = ["Ann", "Bo"]'),
    ("an unclosed list", '[book]\nauthors = ["a", "b"\ntitle = "x"\n', "C001", 2, 11,
     "the list opened at 2:11 is never closed", "close it with ']'"),
    ("an unclosed table name", '[book\ntitle = "x"\n', "C001", 1, 1,
     "the table name on line 1 is not closed with ']'", "[book]"),
    ("a backslash", '[book]\ntitle = "C:\\Users"\n', "C001", 2, 14,
     "a backslash in a \"…\" string starts an escape", "single quotes"),
]


@pytest.mark.parametrize("name, text, code, line, column, said, hint", TOML_CASES, ids=[c[0] for c in TOML_CASES])
def test_book_toml_errors_are_plain_and_located(tmp_path, name, text, code, line, column, said, hint):
    [d] = _toml(tmp_path, text)
    assert (d.code, d.is_error, d.line, d.column) == (code, True, line, column)
    assert said in d.message and hint in d.hint
    assert not any(word in d.message for word in JARGON)
    assert "date" not in d.hint or "date" in text  # a table given twice gets no date hint (it did)


# (name, front matter between its fences, code, line, column, words of the message, words of the hint)
FRONT_CASES = [
    ("a tab indenting", "title: A\ntags:\n\t- x\n", 4, 1, "a tab at 4:1: indent with spaces",
     "YAML indents with spaces only"),
    ("a tab after a colon", "title:\tA\n", 2, 7, "a tab at 2:7: separate with spaces", "spaces only"),
    ("an unclosed double quote", 'title: "My Book\ndate: 2020-01-01\n', 2, 8,
     "the quote opened at 2:8 is never closed", 'end the value with " on the same line: title: "My Book"'),
    ("an unclosed single quote", "summary: short\ntitle: 'My Book\n", 3, 8,
     "the quote opened at 3:8 is never closed", "end the value with '"),
    ("a quote inside single quotes", "title: 'It's mine'\n", 2, 12,
     "the quoted value at 2:8 ends before its line does", "write it twice: title: 'It''s mine'"),
    ("a quote inside double quotes", 'title: "He said "hi""\n', 2, 18,
     "the quoted value at 2:8 ends before its line does", 'write it as \\": title: "He said \\"hi\\""'),
    ("a ': ' inside a value", "title: Part 1: The start\n", 2, 14, "a ': ' inside the value at 2:14",
     'quote values that contain \': \': title: "Part 1: The start"'),
    ("a line indented under a value", "title: A\n  date: 2020-01-01\n", 3, 3,
     "line 3 is indented under a key that already has a value", "start each key"),
    ("an unclosed list", "tags: [a, b\ntitle: x\n", 2, 7,
     "the list opened at 2:7 is never closed (']' is missing before line 3)", "close it with ']'"),
    ("a value starting with @", "title: @home\n", 2, 8, "a value cannot start with '@'", 'title: "@home"'),
    ("a list item among keys", "title: A\n- x\n", 3, 1, "a list item ('-') at 3:1", "under their key"),
    # A quote left open where a later value is quoted: YAML reads on to that value's first quote and
    # failed after it; the message named that later, correct line, and its hint repeated it as it was.
    ("an unclosed quote before a quoted value", 'title: "Gulls of the Coast\nsummary: Birds.\nauthor: "Cy Wing"\n',
     2, 8, "the quote opened at 2:8 is not closed on its line (YAML read the value on to line 4)",
     'end the value with " on the same line: title: "Gulls of the Coast"'),
    ("a list item indented less", "title: G\ntags:\n  - birds\n - gulls\n", 5, 2,
     "the list item at 5:2 is indented differently from the one above it", "indent every item of a list alike"),
    ("a date with month 13", 'title: "A title longer than the date"\ndate: 2024-13-45\n', 3, 7,
     "a value cannot be read (month must be in 1..12)", "quote the value"),
]


@pytest.mark.parametrize("name, block, line, column, said, hint", FRONT_CASES, ids=[c[0] for c in FRONT_CASES])
def test_yaml_front_matter_errors_are_plain_and_located(name, block, line, column, said, hint):
    [d] = _front(f"---\n{block}---\n\nText.\n")
    assert (d.code, d.is_error, d.line, d.column) == ("M001", True, line, column)
    assert d.message == f"invalid YAML front matter: {said}" or said in d.message
    assert hint in d.hint
    assert not any(word in d.message for word in JARGON)
    if "': '" not in said:  # the advice about ': ' only where that is the problem
        assert "contain ': '" not in d.hint


def test_a_yaml_key_given_twice_is_a_warning_at_the_second_and_the_last_is_used():
    front, [d] = split("---\ntitle: First\ndate: 2026-01-01\ntitle: Second\n---\n\nText.\n", Path("a.md"))
    assert (d.code, d.is_error, d.line, d.column) == ("M001", False, 4, 1)
    assert d.message == "'title' is given twice (lines 2 and 4); the last is used"
    assert front.values["title"] == "Second"


def test_a_nested_yaml_key_given_twice_is_found_too():
    [d] = _front("---\ntitle: A\ncover:\n  image: a.png\n  image: b.png\n---\n")
    assert (d.line, d.column) == (5, 3) and "'image' is given twice (lines 4 and 5)" in d.message


@pytest.mark.parametrize("block, line, column, said", [
    ('title = "Tides\n', 2, 9, "the quote opened at 2:9 is never closed"),
    ('title = "A"\ndate = 2023-03-16\ntitle = "B"\n', 4, 1, "'title' is given twice (lines 2 and 4)"),
    ('title = "A"\n[params]\nx = 1\n[params]\ny = 2\n', 5, 1, "the table [params] is given twice (lines 3 and 5)"),
    ("weight = = 3\n", 2, 10, "'=' is written twice after 'weight'"),
])
def test_toml_front_matter_errors_name_the_manuscripts_lines(block, line, column, said):
    [d] = _front(f"+++\n{block}+++\n\nText.\n")
    assert (d.code, d.line, d.column) == ("M001", line, column)
    assert d.message == f"invalid TOML front matter: {said}"


def test_libyaml_reads_front_matter_as_pyyaml_does(monkeypatch):
    """The loader reads YAML front matter with libyaml where it can (ten
    times faster) and with PyYAML otherwise: on every manuscript of the
    project and of ../shared, and on blocks each path treats apart, both
    give the same front matter and the same diagnostics."""
    import yaml

    texts = [(path, path.read_text(encoding="utf-8", errors="replace"))
             for folder in (ROOT / "tests", ROOT / "manuscripts", ROOT / "docs", SHARED)
             if folder.is_dir() for path in sorted(folder.rglob("*.md"))]
    texts += [(Path(f"made-{index}.md"), f"---\n{block}---\nBody.\n") for index, block in enumerate((
        "title: A\ntags: [a, b]\ndate: 2024-02-29\n", "title: 'x'\ntitle: y\n", "title: &a A\nsummary: *a\n",
        "title:\tA\n", "- a list\n", "title: \x07bell\n", "n: 1" + "0" * 5000 + "\n", "title: [a\n",
        "when: 2024-01-01T10:00:00Z\nflag: no\nempty:\n", "tïtle: Ünïcödé välue\n", "tags: [a,\n\ufeffb]\n",
        "title:\n\ufeff  x\n"))]
    assert sum(text.startswith("---\n") for _, text in texts) > 30  # 29 of the project's, 10 made here; ../shared adds 27
    quick = [split(text, path) for path, text in texts]
    monkeypatch.setattr(yaml, "__with_libyaml__", False)
    slow = [split(text, path) for path, text in texts]
    for (path, _), (front, found), (front_slow, found_slow) in zip(texts, quick, slow):
        assert front == front_slow, path
        assert [d.format() for d in found] == [d.format() for d in found_slow], path


@pytest.mark.parametrize("libyaml", [True, False], ids=["libyaml", "pyyaml"])
def test_front_matter_nested_without_end_is_m001_not_a_crash(libyaml):
    """Lists nested 300,000 deep crashed libyaml's composer (the process,
    not an exception) and PyYAML's parser recursed past Python's limit from a
    thousand: both are refused, located, before either composes (run in a
    process of its own, so that a crash is a failure, not the end of the suite)."""
    import subprocess
    import sys

    script = ("import sys, yaml; from pathlib import Path; from pipeline.load.frontmatter import split\n"
              f"yaml.__with_libyaml__ = {libyaml}\n"
              "for text in ('---\\ntitle: ' + '[' * 300000 + ']' * 300000 + '\\n---\\nBody\\n',\n"
              "             '---\\na:\\n' + ''.join(' ' * (i + 1) + f'k{i}:\\n' for i in range(3000)) + '---\\nB\\n'):\n"
              "    front, found = split(text, Path('deep.md'))\n"
              "    print([(d.code, d.line, d.column) for d in found])\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == ["[('M001', 2, 57)]", "[('M001', 52, 51)]"], done.stdout
