"""book.toml keeps its source: the loader reads the file once and keeps
its text beside the config (`ConfigSource`), and every later message that
points into it (a missing article, a cover's resolution, a bibliography)
asks that text for the line, instead of reading the file again."""

from __future__ import annotations

import os
import pickle
import re
import sys
import tomllib
import traceback
from pathlib import Path

from pipeline.load.config import read_config
from pipeline.load.manuscripts import load_book
from pipeline.text.sourcetext import ConfigSource
from pipeline.sandbox import template_data

TEXT = """# a comment that says cover = "no", and names articles
title-like = 1
[book]
title = "T"
  "subtitle"  =  "S"
cover = "cover.png"
articles = [
  "01-a.md",
  "missing.md",
]
[print]
paper = "cream"
[[extra]]
build.scheduler = "tcp://h:1"
"""


def test_line_of_finds_each_key_in_its_table_from_one_pass():
    source = ConfigSource(Path("book.toml"), TEXT)
    assert source.line_of("book", "title") == (4, 1)
    assert source.line_of("book", "subtitle") == (5, 4)  # a quoted key: its name, inside the quotes
    assert source.line_of("print", "paper") == (12, 1)
    assert source.line_of(None, "print") == (11, 2)  # a table's header
    assert source.line_of(None, "title-like") == (2, 1)  # a key before any header
    assert source.line_of(None, "extra") == (13, 3)
    # written another way tomllib reads the same: where its name first stands
    assert source.line_of("build", "scheduler") == (14, 7)
    assert source.line_of("book", "nowhere") == (1, 1)
    assert source.line_of("book", "cover") == (6, 1)  # not the comment on line 1


def test_value_of_and_find_locate_values_and_list_entries():
    source = ConfigSource(Path("book.toml"), TEXT)
    assert source.value_of("book", "subtitle") == (5, 18)
    assert source.value_of("print", "paper") == (12, 9)
    assert source.find('"missing.md"', "book", "articles") == (9, 3)
    assert source.find('"elsewhere.md"', "book", "articles") == (1, 1)
    assert ConfigSource(Path("book.toml")).value_of("book", "title") == (1, 1)  # no text: line 1


def test_given_reads_the_tables_and_knows_invalid_toml():
    source = ConfigSource(Path("book.toml"), TEXT)
    assert dict(source.given("book"))["subtitle"] == "S" and source.given("nothing") == {}
    broken = ConfigSource(Path("book.toml"), '[book]\ntitle = "T\n')
    assert broken.tables() is None and broken.given("book") == {}


def test_the_source_is_plain_data_for_templates_and_workers(tmp_path):
    source = ConfigSource(tmp_path / "book.toml", TEXT)
    source.line_of("book", "title")  # its derived places are worked out, and stay out of its fields
    assert template_data(source) == {"path": "book.toml", "text": TEXT}
    again = pickle.loads(pickle.dumps(source))
    assert again == source and again.line_of("print", "paper") == (12, 1)


def test_read_config_returns_the_text_it_validated(tmp_path):
    path = tmp_path / "book.toml"
    path.write_bytes(b'\xef\xbb\xbf[book]\r\ntitle = "T"\r\n')
    config, source, found = read_config(path, "x")
    assert (config.title, found) == ("T", [])
    assert source == ConfigSource(path, '[book]\ntitle = "T"\n')  # decoded once: no BOM, one line end
    assert read_config(tmp_path / "none.toml", "x")[1] is None  # no file, no source
    path.write_bytes(b'[book]\ntitle = "\xe9"\n')
    assert read_config(path, "x")[1] is None  # not UTF-8 (C001): nothing to keep


class _BookTomlOpens:
    """Which functions of the pipeline open a book.toml while `watching`:
    the frame that called the read gate (audit hooks cannot be removed: one
    for the session, idle unless watching)."""

    def __init__(self) -> None:
        self.watching = False
        self.openers: list[str] = []
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple) -> None:
        if not (self.watching and event == "open" and isinstance(args[0], (str, bytes, os.PathLike))):
            return
        if os.fsdecode(args[0]).endswith("book.toml"):
            frames = [f for f in traceback.extract_stack()[:-1] if "pipeline" in f.filename
                      and not f.filename.endswith("resources.py")]
            self.openers.append(f"{Path(frames[-1].filename).name}:{frames[-1].name}" if frames else "?")

    def during(self, action):
        self.watching, self.openers = True, []
        try:
            return action()
        finally:
            self.watching = False


OPENS = _BookTomlOpens()


def _book(folder: Path) -> Path:
    folder.mkdir()
    (folder / "book.toml").write_text(
        '[book]\n# the cover and the articles\ntitle = "Located"\nlanguage = "en"\n'
        'articles = ["01-a.md", "missing.md"]\ncover = "nocover.png"\nbibliography = "none.bib"\n'
        'csl = "nostyle"\n\n[style]\nlogo = "nologo.png"\n', encoding="utf-8")
    (folder / "01-a.md").write_text("---\ntitle: A\n---\n\nText.\n", encoding="utf-8")
    return folder


def test_loading_reads_book_toml_once_and_locates_every_message_in_that_text(tmp_path):
    folder = _book(tmp_path / "book")
    book, found = OPENS.during(lambda: load_book(folder))
    # read_config's one read for the config; only the mdBook sniffing of the
    # site's detection opens it besides (whose file is it?), never for a line
    assert OPENS.openers.count("config.py:read_config") == 1, OPENS.openers
    assert set(OPENS.openers) <= {"config.py:read_config", "sites.py:_text"}, OPENS.openers
    located = [(d.code, d.line, d.column) for d in found if d.path == folder / "book.toml"]
    assert located == [("C005", 5, 24),  # "missing.md" in the list
                       ("R002", 6, 1),  # cover: the key, not the comment above
                       ("R002", 11, 0),  # [style] logo
                       ("B001", 7, 16),  # the file in [book] bibliography
                       ("B006", 8, 0)], found  # [book] csl
    assert book.config_source == ConfigSource(folder / "book.toml", (folder / "book.toml").read_text())


def test_the_print_cover_asks_the_kept_source_for_the_cover_s_line(tmp_path):
    from PIL import Image

    from pipeline.export.pdf.printcover import cover_resolution
    from pipeline.export.pdf.printspec import print_spec
    from pipeline.render.articles import render_book

    folder = tmp_path / "book"
    folder.mkdir()
    (folder / "book.toml").write_text('[book]\ntitle = "T"\n\ncover = "c.png"\n', encoding="utf-8")
    (folder / "01-a.md").write_text("---\ntitle: A\n---\n\nText.\n", encoding="utf-8")
    Image.new("RGB", (200, 300), "white").save(folder / "c.png")
    book, found = load_book(folder)
    assert found == []
    (folder / "book.toml").write_text('\n\n\n\n\n\n[book]\ntitle = "T"\ncover = "c.png"\n', encoding="utf-8")
    rendered = render_book(book)[0]
    spec = print_spec(rendered.book.config)[0]
    [warned] = OPENS.during(lambda: cover_resolution(rendered, spec))
    assert (warned.code, warned.line) == ("P008", 4) and OPENS.openers == []  # the text it was loaded from


def test_an_option_checks_its_kind_then_its_own_validator():
    """Each option validates itself (its kind's check, then its own), so
    that loading only loops over the schema."""
    import pytest

    from pipeline.load.config import SCHEMA
    from pipeline.load.options import Invalid, Option

    seen = []
    option = Option("t", "k", "str", "f", "doc", validate=lambda value: seen.append(value) or value.upper())
    assert option.check("a") == "A"
    with pytest.raises(Invalid, match="expected a string, got int"):
        option.check(5)
    assert seen == ["a"]  # its own validator sees only what its kind accepted
    by_key = {(o.table, o.key): o for o in SCHEMA}
    with pytest.raises(Invalid, match="expected a width and a height"):
        by_key["print", "trim"].check("5x8")
    with pytest.raises(Invalid) as refused:
        by_key["book", "date"].check("1 March 2026")
    assert refused.value.hint == 'write the date as YYYY-MM-DD in quotes: date = "2026-03-01"'
    assert by_key["style", "accent"].check("teal") == "#008080"  # kept as the stylesheet takes it
    assert by_key["book", "bibliography"].check("refs.bib") == ("refs.bib",)
    assert by_key["print", "paper"].post_validate is not None  # (it needs the profile: once all are read)


# The examples of a new book.toml that name a file: the test makes the file
# each names, as the user would; every other example stands alone.
NAMING_FILES = {("book", "cover"), ("style", "logo"), ("book", "bibliography"), ("book", "articles")}


def _made(path: Path) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".png":
        Image.new("RGB", (60, 90), "#335577").save(path)
    elif path.suffix == ".bib":
        path.write_text("@book{writer2026,\n  author = {Writer, A.},\n  title = {A title},\n  year = {2026},\n}\n",
                        encoding="utf-8")
    else:
        assert path.is_file(), f"the test makes no {path.name}"  # 01-example.md: `pipeline new` wrote it


def test_every_commented_example_of_a_new_book_toml_loads_without_a_problem(tmp_path):
    """`pipeline new` writes every option commented out with an example
    (the schema's own): uncommented alone, each loads with no error and no
    warning (a placeholder such as isbn = "…" was an error)."""
    from pipeline.commands.scaffold import new_book
    from pipeline.load.config import SCHEMA

    folder = tmp_path / "book"
    new_book(folder)
    lines = (folder / "book.toml").read_text(encoding="utf-8").split("\n")
    table, examples = None, {}
    for number, line in enumerate(lines):
        header = re.fullmatch(r"\[(.+)\]", line)
        table = header.group(1) if header else table
        written = re.match(r"# ([a-z-]+) = ", line)
        if written:
            examples[table, written.group(1)] = number
    assert set(examples) == {(o.table, o.key) for o in SCHEMA} - {("book", "title")}  # (the title is set)
    for (table, key), number in examples.items():
        active = lines[number].removeprefix("# ")
        (folder / "book.toml").write_text("\n".join(lines[:number] + [active] + lines[number + 1:]), encoding="utf-8")
        if (table, key) in NAMING_FILES:
            value = tomllib.loads(active)[key]
            for name in [value] if isinstance(value, str) else value:
                _made(folder / name)
        found = load_book(folder)[1]
        assert [d.format() for d in found] == [], f"[{table}] {active}"
