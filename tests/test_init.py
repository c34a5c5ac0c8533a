"""`pipeline init [DIR]`: a book.toml for a folder of Markdown that has none,
as commented as `pipeline new`'s, with what the files tell (title, language,
website flavour); never over an existing one. And `pipeline new` in a folder
with files says to use it."""

from __future__ import annotations

import io
import shutil
import tomllib
from pathlib import Path

import pytest
from conftest import SEEDS, epub_documents, epubcheck_messages, normalize, seed_sentences

from pipeline.commands.cli import main
from pipeline.load.config import SCHEMA, load_config
from pipeline.load.manuscripts import load_book
from pipeline.load.sites import detect

TIDES_DE = ("Die Gezeiten entstehen durch die Anziehungskraft des Mondes und der Sonne. Zweimal am Tag steigt das "
            "Wasser an der Küste und fällt wieder. Wer am Wattenmeer wandert, muss die Zeiten kennen, denn die Flut "
            "kommt schneller, als man denkt. Die Fischer richten ihre Arbeit seit Jahrhunderten nach diesem Rhythmus.")

# (Swahili: a language labels.toml has no table for, as no source we may use has its words)
TIDES_SW = ("Mawimbi ya bahari huja na kuondoka mara mbili kila siku. Wavuvi wa kijiji chetu wamepanga kazi yao "
            "kulingana na mdundo huu kwa karne nyingi, na watoto hujifunza tangu wakiwa wadogo kusoma ishara za "
            "bahari. Wakati wa mvua nyingi, mto hujaa na maji hufika hadi kwenye mashamba.")


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), stdout=out, stderr=err), out.getvalue(), err.getvalue()


def _write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _settings(folder: Path) -> dict:
    return tomllib.loads((folder / "book.toml").read_text(encoding="utf-8"))


def test_init_writes_a_commented_book_toml_that_loads_and_builds_without_a_warning(tmp_path):
    folder = _write(tmp_path / "gezeiten", {
        "01-ebbe.md": f"---\ntitle: Ebbe und Flut\n---\n\n{TIDES_DE}\n",
        "02-watt.md": f"---\ntitle: Das Watt\n---\n\n{TIDES_DE}\n"})
    code, out, err = _run("init", str(folder))
    assert (code, err) == (0, "") and f"wrote {folder / 'book.toml'}" in out
    text = (folder / "book.toml").read_text(encoding="utf-8")
    assert _settings(folder)["book"] == {"title": "Ebbe und Flut", "language": "de"}
    assert "source" not in _settings(folder) or _settings(folder)["source"] == {}  # a plain folder: no flavour
    for option in SCHEMA:  # every key listed and described, as `pipeline new` writes it
        assert f"{option.key} = " in text and f"# {option.doc}" in text, option.key
    assert "README" not in text and "pipeline --help" in text  # points to what an installed package has
    assert load_config(folder / "book.toml", "x")[1] == []
    assert load_book(folder)[1] == []
    code, _, err = _run("build", str(folder), "--out", str(tmp_path / "out"), "--format", "epub", "--quiet")
    assert (code, err) == (0, "")


def test_init_never_replaces_a_book_toml(tmp_path):
    folder = _write(tmp_path / "book", {"book.toml": '[book]\ntitle = "Mine"\n', "a.md": "# A\n\nText.\n"})
    code, out, err = _run("init", str(folder))
    assert code == 1 and out == "" and "error[O005]" in err and "never replaces it" in err
    assert (folder / "book.toml").read_text(encoding="utf-8") == '[book]\ntitle = "Mine"\n'
    (folder / "book.toml").unlink()
    (folder / "book.toml").symlink_to(tmp_path / "elsewhere.toml")  # a dangling link is there too
    assert _run("init", str(folder))[0] == 1 and not (tmp_path / "elsewhere.toml").exists()
    code, _, err = _run("init", str(tmp_path / "missing"))
    assert code == 1 and "error[O005]" in err and "pipeline new" in err


def test_the_title_is_the_first_article_s_heading_else_the_folder_s_name(tmp_path):
    headed = _write(tmp_path / "field-notes", {"01-a.md": "# Birds of the Marsh\n\nShort.\n", "02-b.md": "Text.\n"})
    assert _run("init", str(headed))[0] == 0
    assert _settings(headed)["book"] == {"title": "Birds of the Marsh"}  # too little text to tell its language
    assert '# language = "en"' in (headed / "book.toml").read_text(encoding="utf-8")
    unnamed = _write(tmp_path / "field-notes-2", {"01-intro.md": "Just text, no heading.\n"})
    assert _run("init", str(unnamed))[0] == 0
    assert _settings(unnamed)["book"]["title"] == "Field notes 2"  # not 'Intro', the file's name


def test_a_language_without_words_in_labels_toml_is_written_commented_out(tmp_path):
    folder = _write(tmp_path / "mawimbi", {"01-a.md": f"---\ntitle: Mawimbi\n---\n\n{TIDES_SW}\n"})
    assert _run("init", str(folder))[0] == 0
    text = (folder / "book.toml").read_text(encoding="utf-8")
    assert '# language = "sw"' in text and "[labels]" in text  # guessed, to uncomment once it has its words
    assert "language" not in _settings(folder)["book"]
    assert load_config(folder / "book.toml", "x")[1] == []  # no C008 at every build meanwhile


def test_a_flavour_known_only_from_the_files_is_kept_in_source_flavor(tmp_path):
    folder = _write(tmp_path / "repo-docs", {"README.md": "# Repo docs\n\nHow to use the tool.\n",
                                             "usage.md": "# Usage\n\nRun it.\n"})
    assert detect(folder).flavour == "gfm"  # a README beside no book.toml...
    assert _run("init", str(folder))[0] == 0
    assert _settings(folder)["source"] == {"flavor": "gfm"}  # ...stays GitHub Markdown once book.toml is there
    assert detect(folder, _settings(folder)["source"]["flavor"]).flavour == "gfm"
    assert load_config(folder / "book.toml", "x")[1] == []


def test_init_defaults_to_the_current_folder(tmp_path, monkeypatch):
    _write(tmp_path, {"01-a.md": "---\ntitle: Here\n---\n\nText.\n"})
    monkeypatch.chdir(tmp_path)
    assert _run("init")[0] == 0 and _settings(tmp_path)["book"]["title"] == "Here"


def test_new_in_a_folder_with_files_says_to_use_init(tmp_path):
    folder = _write(tmp_path / "drafts", {"a.md": "# A\n\nText.\n"})
    code, _, err = _run("new", str(folder))
    assert code == 1 and "error[O004]" in err and f"pipeline init {folder}" in err
    assert sorted(p.name for p in folder.iterdir()) == ["a.md"]
    assert _run("init", str(folder))[0] == 0
    code, _, err = _run("new", str(folder))
    assert code == 1 and f"pipeline build {folder}" in err  # a book already


@pytest.fixture
def seeds() -> list[Path]:
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds is not available")
    return sorted(SEEDS.glob("*.txt"))


def test_seeds_imported_then_init_build_with_every_sentence_and_a_clean_epub(seeds, tmp_path):
    book = tmp_path / "kratom-booklet"
    code, out, err = _run("import", *map(str, seeds), "--into", str(book))
    assert code == 0 and "book.toml" in out and err.count("warning[I004]") == 2
    # import wrote book.toml as init does; a provisional title is no book title: the folder's name is
    assert _settings(book)["book"] == {"title": "Kratom booklet", "language": "en"}
    (book / "book.toml").unlink()
    code, out, err = _run("init", str(book))
    assert (code, err) == (0, "")
    assert _settings(book)["book"]["language"] == "en" and load_config(book / "book.toml", "x")[1] == []
    code, _, err = _run("build", str(book), "--out", str(tmp_path / "out"), "--format", "epub", "--quiet")
    assert (code, err) == (0, "")
    [epub] = (tmp_path / "out").glob("*.epub")
    assert epubcheck_messages(epub) == []
    text = normalize(" ".join(" ".join(root.itertext()) for root in epub_documents(epub).values()))
    assert [s for s in seed_sentences() if normalize(s) not in text] == []


def test_an_imported_folder_keeps_its_book_toml_on_the_next_import(seeds, tmp_path):
    book = tmp_path / "book"
    assert _run("import", str(seeds[0]), "--into", str(book))[0] == 0
    before = (book / "book.toml").read_bytes()
    code, out, _ = _run("import", str(seeds[1]), "--into", str(book))
    assert code == 0 and "book.toml" not in out and (book / "book.toml").read_bytes() == before
    shutil.rmtree(book)
