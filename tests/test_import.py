"""`pipeline import`: plain-text articles in the seeds' layout -> manuscripts
that load like the hand-made ones, every sentence kept, nothing overwritten
or half-written by surprise."""

from __future__ import annotations

import io
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import MANUSCRIPTS, SEEDS, normalize
from lxml import html

from pipeline.commands.cli import main
from pipeline.commands.importer import import_files, import_text, provisional_slug
from pipeline.load.manuscripts import load_article, load_book, slugify
from pipeline.render.articles import render_article

NO_LIST = """A summary of the article. It has two sentences.
“A quoted blurb.”
First Section
Text of the first section. More text.
"""


@pytest.fixture
def seeds() -> list[Path]:
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds is not available")
    return sorted(SEEDS.glob("*.txt"))


def _codes(diagnostics) -> list[str]:
    return [d.code for d in diagnostics]


def _headings(body: str) -> list[str]:
    return re.findall(r"^## (.+)$", body, flags=re.MULTILINE)


def _without_title(text: str) -> str:
    """The manuscript without its title and the line naming the file it was imported from."""
    text = re.sub(r"^# imported from .*\n", "", text, count=1, flags=re.MULTILINE)
    return re.sub(r"^title: .*$", "title: ...", text, count=1, flags=re.MULTILINE)


def _manuscripts(written: list[Path]) -> list[Path]:
    return [path for path in written if path.suffix == ".md"]


def _write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def test_seeds_import_like_the_hand_made_manuscripts(seeds, tmp_path):
    written, diagnostics = import_files(seeds, tmp_path, None, force=False)
    assert not any(d.is_error for d in diagnostics)
    book, found = load_book(tmp_path)
    assert not any(d.is_error for d in found), [d.format() for d in found]
    hand_made, _ = load_book(MANUSCRIPTS)
    assert len(book.articles) == len(hand_made.articles) == 2
    for new, old in zip(book.articles, hand_made.articles):
        assert new.summary == old.summary and new.blurb == old.blurb
        assert _headings(new.body) == _headings(old.body)
        assert normalize(new.body) == normalize(old.body)
    for seed, new_path, old_path in zip(seeds, _manuscripts(written), sorted(MANUSCRIPTS.glob("*.md"))):
        assert new_path.read_text("utf-8").startswith(f"---\n# imported from {seed.name} (fingerprint ")
        assert _without_title(new_path.read_text("utf-8")) == _without_title(old_path.read_text("utf-8"))


def test_file_names_and_provisional_titles_are_reported(seeds, tmp_path):
    written, diagnostics = import_files(seeds, tmp_path, None, force=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == [p.name for p in written]  # no temp files left
    warnings = [d for d in diagnostics if d.code == "I004"]
    assert [d.path for d in warnings] == seeds and all(d.line == 1 and not d.is_error for d in warnings)
    assert written[-1].name == "book.toml"
    for number, (seed, path, found) in enumerate(zip(seeds, written, warnings), start=1):
        summary = seed.read_text("utf-8").split("\n")[0]
        title = load_article(path)[0].title
        assert summary.startswith(title) and 4 <= len(title.split()) <= 12  # the summary's start, not a section
        slug = provisional_slug(title, seed)  # a short file name: the first significant words
        assert path.name == f"{number:02d}-{slug}.md" and len(slug) <= 40 and slugify(title).startswith(slug[:6])
        assert f"'{title}' was taken from the summary" in found.message and "--title" in found.hint


def test_front_matter_reads_back_the_exact_paragraphs(seeds):
    lines = seeds[0].read_text("utf-8").split("\n")
    text, diagnostics = import_text("\n".join(lines), seeds[0], "A Title: With Colon")
    assert diagnostics == []
    front = yaml.safe_load(text.split("---\n")[1])
    assert front == {"title": "A Title: With Colon", "summary": lines[0], "blurb": lines[1]}
    assert all(len(line) <= 78 for line in text.split("\n"))
    assert "- Understanding" not in text  # the list of titles is not copied


def test_numbers_continue_after_the_existing_manuscripts(seeds, tmp_path):
    book = tmp_path / "book"
    shutil.copytree(MANUSCRIPTS, book)
    written, diagnostics = import_files(seeds[:1], book, "Kratom and Sleep", force=False)
    assert [p.name for p in written] == ["03-kratom-and-sleep.md"] and diagnostics == []
    _, found = load_book(book)
    assert not any(d.is_error for d in found)


def test_refuses_to_overwrite_without_force(seeds, tmp_path):
    (first, _), _ = import_files(seeds[:1], tmp_path, None, force=False)
    first.write_text("edited by hand\n", encoding="utf-8")
    written, diagnostics = import_files(seeds[:1], tmp_path, None, force=False)
    assert written == [] and _codes(diagnostics) == ["I004", "I005"]  # the hand-made file is no import
    refusal = diagnostics[1]
    assert refusal.is_error and refusal.path == first and first.name in refusal.message
    assert "--force" in refusal.hint
    assert first.read_text(encoding="utf-8") == "edited by hand\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.name, "book.toml"]

    written, diagnostics = import_files(seeds[:1], tmp_path, None, force=True)
    assert written == [first] and not any(d.is_error for d in diagnostics)
    assert first.read_text(encoding="utf-8").startswith("---\n# imported from ")
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.name, "book.toml"]


def _md_names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.md"))


def test_the_i004_hint_is_true_importing_again_with_a_title_replaces_and_renames(seeds, tmp_path):
    from pipeline.commands.cli import main

    (first, _), [i004] = import_files(seeds[:1], tmp_path, None, force=False)
    assert "import the file again with --title" in i004.hint
    out, err = io.StringIO(), io.StringIO()  # as the hint says, on the command line
    code = main(["import", str(seeds[0]), "--into", str(tmp_path), "--title", "Kratom and Sleep"], out, err)
    assert (code, err.getvalue()) == (0, "")
    assert out.getvalue().splitlines() == [f"wrote {tmp_path / '01-kratom-and-sleep.md'} (4.5 kB)",
                                           f"removed {first} (replaced)"]
    assert _md_names(tmp_path) == ["01-kratom-and-sleep.md"]  # no second copy; the number kept
    renamed = tmp_path / "01-kratom-and-sleep.md"
    assert load_article(renamed)[0].title == "Kratom and Sleep"
    (fresh, _), _ = import_files(seeds[:1], tmp_path / "again", None, force=False)
    assert _without_title(renamed.read_text("utf-8")) == _without_title(fresh.read_text("utf-8"))


def test_importing_the_same_file_again_replaces_it_keeping_its_title(seeds, tmp_path):
    import_files(seeds[:1], tmp_path, "Kratom and Sleep", force=False)
    path = tmp_path / "01-kratom-and-sleep.md"
    before = path.read_bytes()
    written, diagnostics = import_files(seeds[:1], tmp_path, None, force=False)
    assert written == [path] and diagnostics == []  # no provisional title (I004): it has one
    assert path.read_bytes() == before and _md_names(tmp_path) == [path.name]
    written, _ = import_files(seeds[1:], tmp_path, None, force=False)  # another file is another article
    assert _md_names(tmp_path) == [path.name, written[0].name] and written[0].name.startswith("02-")


def test_an_import_edited_since_is_replaced_only_with_force_but_a_new_title_alone_is_no_edit(seeds, tmp_path):
    (first, _), _ = import_files(seeds[:1], tmp_path, None, force=False)
    text = first.read_text("utf-8")
    first.write_text(re.sub(r"^title: .*$", 'title: "Retitled by Hand"', text, count=1, flags=re.M), "utf-8")
    written, diagnostics = import_files(seeds[:1], tmp_path, None, force=False)
    assert written == [first] and diagnostics == []  # the title is the author's: kept, and no edit
    assert load_article(first)[0].title == "Retitled by Hand"
    first.write_text(first.read_text("utf-8").replace("Kratom", "Kratum", 1), "utf-8")
    edited = first.read_bytes()
    written, diagnostics = import_files(seeds[:1], tmp_path, "Another Title", force=False)
    assert written == [] and _codes(diagnostics) == ["I005"] and diagnostics[0].path == first
    assert "edited since" in diagnostics[0].message and "--force" in diagnostics[0].hint
    assert first.read_bytes() == edited and _md_names(tmp_path) == [first.name]
    written, diagnostics = import_files(seeds[:1], tmp_path, "Another Title", force=True)
    assert [p.name for p in written] == ["01-another-title.md"] and diagnostics == []
    assert _md_names(tmp_path) == ["01-another-title.md"]


def test_a_renamed_import_listed_in_book_toml_says_which_name_to_replace(seeds, tmp_path):
    (first, _), _ = import_files(seeds[:1], tmp_path, None, force=False)
    (tmp_path / "book.toml").write_text(f'[book]\ntitle = "B"\narticles = ["{first.name}"]\n', "utf-8")
    written, [d] = import_files(seeds[:1], tmp_path, "Kratom and Sleep", force=False)
    assert d.code == "I008" and d.hint == f'replace "{first.name}" by "01-kratom-and-sleep.md" in [book] articles'


def test_a_provisional_slug_is_short_and_says_what_the_article_is_about(tmp_path):
    assert provisional_slug("Kratom, a natural compound found in Mitragyna speciosa native to Southeast Asia",
                            tmp_path / "000_36aacb3b517d2d82.txt") == "kratom-natural-compound-found"
    assert provisional_slug("How to sleep in 5 minutes", tmp_path / "x.txt") == "sleep-5-minutes"  # numbers count
    assert provisional_slug("A " + "x" * 60, tmp_path / "x.txt") == "x" * 40
    assert provisional_slug("…", tmp_path / "Notes_On-Tides.txt") == "notes-on-tides"
    assert provisional_slug("«»", tmp_path / "…") == "article"


def test_an_article_already_in_the_book_under_another_file_name_is_refused(seeds, tmp_path):
    book = tmp_path / "book"
    shutil.copytree(MANUSCRIPTS, book)
    title = load_article(min(book.glob("*.md")))[0].title
    written, diagnostics = import_files(seeds[:1], book, title, force=False)
    assert written == [] and _codes(diagnostics) == ["I005"]
    assert diagnostics[0].path.name.startswith("01-")


def test_title_with_two_files_is_an_error(seeds, tmp_path):
    written, diagnostics = import_files(seeds, tmp_path / "book", "One Title", force=False)
    assert written == [] and _codes(diagnostics) == ["I006"] and diagnostics[0].is_error
    assert not (tmp_path / "book").exists()


def test_two_files_with_the_same_title_are_an_error(seeds, tmp_path):
    written, diagnostics = import_files([seeds[0], seeds[0]], tmp_path, None, force=True)
    assert written == [] and "I005" in _codes(diagnostics)


def test_text_without_a_bulleted_list_imports_with_a_located_warning(tmp_path):
    source = _write(tmp_path / "plain.txt", NO_LIST)
    (path, _), diagnostics = import_files([source], tmp_path / "book", None, force=False)
    assert _codes(diagnostics) == ["I003", "I004"]
    assert "no bulleted list" in diagnostics[0].message and diagnostics[0].line == 3
    assert "A summary of the article" in diagnostics[1].message
    article, found = load_article(path)
    assert found == []
    assert normalize(article.body) == normalize(NO_LIST)  # every sentence kept, in order
    assert article.summary == "" and _headings(article.body) == []


def test_a_missing_heading_is_named_with_its_line(tmp_path):
    text = "Summary.\n“Blurb.”\n- One\n- Two\nOne\nText one.\nTwo is not a heading line.\nEnd.\n"
    manuscript, diagnostics = import_text(text, tmp_path / "a.txt", "T")
    assert _codes(diagnostics) == ["I003"]
    assert "'Two'" in diagnostics[0].message and diagnostics[0].line == 4
    assert normalize(manuscript.split("---\n")[2]).replace("\\", "") == normalize(text)


def test_an_unquoted_blurb_is_reported_on_its_line(tmp_path):
    text = "Summary.\nNot quoted.\n- One\nOne\nText.\n"
    _, diagnostics = import_text(text, tmp_path / "a.txt", "T")
    assert _codes(diagnostics) == ["I003"] and diagnostics[0].line == 2


def test_input_files_are_unchanged(seeds, tmp_path):
    copies = [Path(shutil.copy(seed, tmp_path / seed.name)) for seed in seeds]
    before = [(p.read_bytes(), p.stat().st_mtime_ns) for p in copies]
    import_files(copies, tmp_path / "book", None, force=False)
    import_files(copies, tmp_path / "book", None, force=True)
    assert [(p.read_bytes(), p.stat().st_mtime_ns) for p in copies] == before


def test_imported_manuscripts_load_without_errors(seeds, tmp_path):
    written, _ = import_files(seeds, tmp_path, None, force=False)
    for path in _manuscripts(written):
        article, diagnostics = load_article(path)
        assert article is not None and not any(d.is_error for d in diagnostics)
        assert diagnostics == []


def test_empty_and_undecodable_input_are_located_errors_and_nothing_is_written(seeds, tmp_path):
    empty = _write(tmp_path / "empty.txt", " \n\n")
    bad = tmp_path / "bad.txt"
    bad.write_bytes("Summary line.\nsecond \xff line\n".encode("latin-1"))
    written, diagnostics = import_files([*seeds, empty, bad], tmp_path / "book", None, force=False)
    assert written == [] and not (tmp_path / "book").exists()
    errors = [d for d in diagnostics if d.is_error]
    assert [(d.code, d.path, d.line, d.column) for d in errors] == [("I002", empty, 1, 1), ("I001", bad, 2, 8)]
    assert import_text("", tmp_path / "x.txt", "T")[0] is None


def test_a_missing_input_file_is_an_error(tmp_path):
    written, diagnostics = import_files([tmp_path / "nope.txt"], tmp_path, None, force=False)
    assert written == [] and _codes(diagnostics) == ["I007"]


def test_bom_crlf_and_blank_line_paragraphs(tmp_path):
    text = ("\ufeffThe summary,\r\nwrapped by hand.\r\n\r\n“The blurb.”\r\n\r\n- Alpha\r\n- Beta\r\n\r\n"
            "Alpha\r\nFirst paragraph,\r\nwrapped.\r\n\r\nSecond paragraph.\r\n\r\nBeta\r\nLast one.\r\n")
    manuscript, diagnostics = import_text(text, tmp_path / "a.txt", "T")
    assert diagnostics == []
    assert manuscript.endswith("## Alpha\n\nFirst paragraph, wrapped.\n\nSecond paragraph.\n\n"
                               "## Beta\n\nLast one.\n")
    assert yaml.safe_load(manuscript.split("---\n")[1])["summary"] == "The summary, wrapped by hand."


@pytest.mark.parametrize("token", ["#1 item", "> quote", ": colon", "---", "***", "- - -", "===",
                                   "[1]: http://x", "*[HTML]: x", "[^1]: note"])
def test_wrapping_never_starts_markdown_block_syntax(tmp_path, token):
    for words in range(15, 45):
        _assert_renders_as_text(tmp_path, "ab " * words + token + " and more words" * 8)


@pytest.mark.parametrize("start", ["1. one", "12) x", "# x", "> x", "+ x", "---",
                                   "[a]: b", "|a|b|", "*[A]: b", ": def", "_ _ _"])
def test_a_paragraph_starting_like_markdown_syntax_stays_text(tmp_path, start):
    _assert_renders_as_text(tmp_path, start + " tail words" * 10)


def _assert_renders_as_text(tmp_path: Path, paragraph: str) -> None:
    """The paragraph, after a first one, renders as one <p> holding exactly its text."""
    manuscript, _ = import_text(f"First.\n{paragraph}\n", tmp_path / "a.txt", "T")
    path = _write(tmp_path / "a.md", manuscript)
    article, _ = load_article(path)
    rendered, _ = render_article(article, 1, tmp_path)
    tree = html.fragment_fromstring(rendered.body_html, create_parent="div")
    assert [child.tag for child in tree] == ["p", "p"], rendered.body_html
    assert normalize(tree[1].text_content()) == paragraph


def test_book_toml_listing_articles_warns_about_the_new_file(seeds, tmp_path):
    _write(tmp_path / "book.toml", '[book]\ntitle = "B"\narticles = ["01-a.md"]\n')
    written, diagnostics = import_files(seeds[:1], tmp_path, "New", force=False)
    assert _codes(diagnostics) == ["I008"] and written[0].name in diagnostics[0].message


def test_command_line_arguments(seeds, tmp_path, capsys):
    """`pipeline import` as the command line parses it: --into required,
    --title and --force taken."""
    assert main(["import", *map(str, seeds), "--into", str(tmp_path / "a")]) == 0
    assert len(_manuscripts(sorted((tmp_path / "a").glob("*.md")))) == 2
    assert main(["import", str(seeds[0]), "--into", str(tmp_path / "b"), "--title", "Tides Tonight", "--force"]) == 0
    [written] = sorted((tmp_path / "b").glob("*.md"))
    assert written.name == "01-tides-tonight.md"
    assert '\ntitle: "Tides Tonight"\n' in written.read_text(encoding="utf-8")
    assert main(["import", str(seeds[0])]) == 2  # --into is required: a usage error
    assert "--into" in capsys.readouterr().err


# --- variants of the seeds' layout, on a text of our own ------------------------------------

KEEPER = [
    "Lighthouse keepers kept the lamps lit through long winter nights. Their logbooks record the rest.",
    "“Ever wondered who trimmed the wicks? This article follows one keeper’s year.”",
    "- The Keeper’s Duties",
    "- Weather in the Logbook",
    "- Leaving the Station",
    "The Keeper’s Duties",
    "Each evening the keeper lit the lamp and wound the clockwork that turned the lens.",
    "Weather in the Logbook",
    "Every four hours the log took a line of observations.",
    "- Wind speed and direction, in the Beaufort scale",
    "- Visibility at dawn",
    "* Ships sighted before noon",
    "The entries grow terse in storms.",
    "Leaving the Station",
    "The last keeper left when the lamp was automated.",
    "Today the logbooks are all that remain of their watch.",  # the closing paragraph
]
KEEPER_BODY = (
    "## The Keeper’s Duties\n\n"
    "Each evening the keeper lit the lamp and wound the clockwork that turned the\nlens.\n\n"
    "## Weather in the Logbook\n\n"
    "Every four hours the log took a line of observations.\n\n"
    "- Wind speed and direction, in the Beaufort scale\n- Visibility at dawn\n- Ships sighted before noon\n\n"
    "The entries grow terse in storms.\n\n"
    "## Leaving the Station\n\n"
    "The last keeper left when the lamp was automated.\n\n"
    "Today the logbooks are all that remain of their watch.\n")


def _body(manuscript: str) -> str:
    return manuscript.split("---\n", 2)[2].lstrip("\n")


@pytest.mark.parametrize("variant", ["lf", "crlf", "blank lines", "blank lines and crlf"])
def test_layout_variants_import_alike_with_the_list_in_a_section_kept(tmp_path, variant):
    separator = "\n\n" if "blank" in variant else "\n"
    text = separator.join(KEEPER) + "\n"
    text = text.replace("\n", "\r\n") if "crlf" in variant else text
    manuscript, diagnostics = import_text(text, tmp_path / "keeper.txt", None)
    assert _codes(diagnostics) == ["I004"] and diagnostics[0].line == 1
    assert "'Lighthouse keepers kept the lamps lit through long winter nights' was taken from the summary" \
        in diagnostics[0].message
    assert _body(manuscript) == KEEPER_BODY
    front = yaml.safe_load(manuscript.split("---\n")[1])
    assert front == {"title": "Lighthouse keepers kept the lamps lit through long winter nights",
                     "summary": KEEPER[0], "blurb": KEEPER[1]}


def test_straight_quotes_mark_the_blurb_too(tmp_path):
    lines = [KEEPER[0], '"Ever wondered who trimmed the wicks? This article follows one keeper\'s year."',
             *KEEPER[2:]]
    manuscript, diagnostics = import_text("\n".join(lines), tmp_path / "keeper.txt", "Keepers")
    assert diagnostics == []
    assert yaml.safe_load(manuscript.split("---\n")[1])["blurb"] == lines[1]
    assert _body(manuscript) == KEEPER_BODY


def test_a_list_in_a_section_renders_as_a_list_and_the_closing_paragraph_as_the_last(tmp_path):
    manuscript, _ = import_text("\n".join(KEEPER), tmp_path / "keeper.txt", "Keepers")
    article, found = load_article(_write(tmp_path / "01-keepers.md", manuscript))
    assert found == []
    rendered, _ = render_article(article, 1, tmp_path)
    tree = html.fragment_fromstring(rendered.body_html, create_parent="div")
    assert [child.tag for child in tree] == ["h2", "p", "h2", "p", "ul", "p", "h2", "p", "p"]
    assert [normalize(item.text_content()) for item in tree[4]] == [
        "Wind speed and direction, in the Beaufort scale", "Visibility at dawn", "Ships sighted before noon"]
    assert normalize(tree[-1].text_content()) == KEEPER[-1]
    assert "\\-" not in manuscript


def test_a_hard_wrapped_bullet_continues_on_its_indented_line(tmp_path):
    text = ("The summary.\n\n“The blurb.”\n\n- Alpha\n\nAlpha\n\nBefore the list.\n\n"
            "- A long item that the author\n  wrapped by hand\n- # Not a heading\n\nAfter the list.\n")
    manuscript, diagnostics = import_text(text, tmp_path / "a.txt", "T")
    assert diagnostics == []
    assert _body(manuscript) == ("## Alpha\n\nBefore the list.\n\n"
                                 "- A long item that the author wrapped by hand\n- \\# Not a heading\n\n"
                                 "After the list.\n")


def test_a_long_bullet_wraps_under_its_text_within_78_columns(tmp_path):
    item = "word " * 40
    manuscript, _ = import_text(f"S.\n“B.”\n- Alpha\nAlpha\n- {item}\n", tmp_path / "a.txt", "T")
    lines = _body(manuscript).split("\n")
    assert lines[2].startswith("- word") and all(line.startswith("  word") for line in lines[3:-1] if line)
    assert all(len(line) <= 78 for line in lines)
    assert normalize(" ".join(lines[2:]).removeprefix("- ")) == normalize(item)


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640)])
def test_imported_manuscripts_and_new_books_have_the_mode_the_umask_gives(tmp_path, umask, mode):
    source = _write(tmp_path / "keeper.txt", "\n".join(KEEPER))
    script = (f"import os, sys; os.umask({umask:#o}); from pipeline.commands.cli import main; "
              f"sys.exit(main(['import', {str(source)!r}, '--into', {str(tmp_path / 'book')!r}]) "
              f"or main(['new', {str(tmp_path / 'new')!r}]))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    files = [p for folder in ("book", "new") for p in (tmp_path / folder).rglob("*") if p.is_file()]
    assert len(files) == 5  # import's book.toml, new's styles/print.css too
    assert {stat.S_IMODE(p.stat().st_mode) for p in files} == {mode}
