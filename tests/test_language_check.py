"""The language a book or article says it is in, against the language its
text reads as (pipeline/load/language.py): C012 at book.toml's language
line, M014 at the front matter's; language names suggest their tag; no
warning on the stories of ../shared/corpus-world in their 18 languages
(skipped where the shared folder is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import MANUSCRIPTS, SHARED
from pipeline.load import load_book
from pipeline.load.language import guess_language, prose, read_as

ENGLISH = (
    "The harbour was quiet that morning, and the fishermen mended their nets while the gulls argued over "
    "the scraps left on the quay. Nobody expected the ferry to arrive before noon, because the wind had "
    "turned during the night and the sea beyond the breakwater was still grey and restless. In the cafe "
    "by the church, the owner wiped the same table three times and listened to the radio, which promised "
    "rain for the rest of the week and a storm on Sunday.\n")
GERMAN = (
    "Der Hafen war an diesem Morgen still, und die Fischer flickten ihre Netze, während die Möwen sich um "
    "die Reste auf dem Kai stritten. Niemand erwartete die Fähre vor Mittag, denn der Wind hatte in der "
    "Nacht gedreht, und das Meer hinter der Mole war noch grau und unruhig. Im Café neben der Kirche "
    "wischte der Wirt dreimal denselben Tisch ab und hörte Radio, das Regen für den Rest der Woche "
    "versprach und einen Sturm am Sonntag.\n")


def _book(tmp_path: Path, config: str | None, articles: dict[str, str]) -> Path:
    book = tmp_path / "book"
    book.mkdir(parents=True)
    if config is not None:
        (book / "book.toml").write_text(config, encoding="utf-8")
    for name, text in articles.items():
        (book / name).write_text(text, encoding="utf-8")
    return book


def _codes(diagnostics, *codes):
    return [d for d in diagnostics if d.code in codes]


def test_guess_language_reads_the_prose_and_says_none_when_unsure():
    assert guess_language(ENGLISH) == "en"
    assert guess_language(GERMAN) == "de"
    assert guess_language("Ein kurzer Satz.") is None  # too few letters to be sure
    code = "```python\n" + "for item in range(10):\n    print(item)  # the loop prints the numbers\n" * 30 + "```\n"
    assert guess_language(code) is None  # code is nobody's language
    assert guess_language(f"---\ntitle: The English Title\n---\n{code}\n{GERMAN}") == "de"


def test_prose_leaves_out_code_addresses_tags_and_front_matter():
    text = ("---\ntitle: Front\n---\nWords `inline code` and <span class=\"x\">tagged</span> text, "
            "https://example.org/path and [a link](https://example.org/other).\n\n~~~\nfenced code\n~~~\n"
            "<pre>preformatted</pre> after\n")
    kept = prose(text)
    for gone in ("Front", "inline code", "span", "example.org", "fenced code", "preformatted"):
        assert gone not in kept
    for word in ("Words", "tagged", "a link", "after"):
        assert word in kept


def test_uk_on_an_english_book_is_c012_at_its_language_line_suggesting_en_gb(tmp_path):
    book = _book(tmp_path, '[book]\ntitle = "Harbour"\nlanguage = "uk"\n',
                 {"a.md": f"---\ntitle: One\n---\n{ENGLISH}\n{ENGLISH}"})
    _, diagnostics = load_book(book)
    [found] = _codes(diagnostics, "C012", "M014")
    assert found.code == "C012" and not found.is_error
    assert found.message == "language 'uk' is Ukrainian, but the text reads as English: did you mean 'en-GB'?"
    assert (found.path, found.line, found.column) == (book / "book.toml", 3, 12)
    assert "not the United Kingdom" in found.hint and 'language = "en-GB"' in found.hint


def test_a_build_checks_the_language_beside_its_export_and_reports_it_the_same(tmp_path):
    """A build ranks the samples in a process of its own while it exports
    (language.Ranker): the same C012 as the loader's, and under
    --strict it still decides the commit, which waits for it."""
    from pipeline.build import build

    book = _book(tmp_path, '[book]\ntitle = "Harbour"\nlanguage = "uk"\n',
                 {"a.md": f"---\ntitle: One\n---\n{ENGLISH}\n{ENGLISH}"})
    loaded = _codes(load_book(book)[1], "C012", "M014")
    result = build(book, tmp_path / "out", formats=("epub",))
    assert result.ok and result.outputs
    assert [(d.code, d.message, d.line, d.column) for d in _codes(result.diagnostics, "C012", "M014")] == \
        [(d.code, d.message, d.line, d.column) for d in loaded]
    strict = build(book, tmp_path / "strict", formats=("epub",), strict=True)
    assert not strict.ok and not strict.outputs and not list((tmp_path / "strict").glob("*.epub"))
    assert [d.code for d in strict.diagnostics if d.is_error] == ["C012"]


def test_another_language_in_the_same_script_is_c012_suggesting_the_detected_tag(tmp_path):
    book = _book(tmp_path, '[book]\ntitle = "Hafen"\nlanguage = "en"\n',
                 {"a.md": f"---\ntitle: Eins\n---\n{GERMAN}", "b.md": f"---\ntitle: Zwei\n---\n{GERMAN}"})
    _, diagnostics = load_book(book)
    [found] = _codes(diagnostics, "C012", "M014")
    assert found.message == "language 'en' is English, but the text reads as German: did you mean 'de'?"
    assert found.line == 3


def test_the_default_language_on_a_german_book_says_where_to_set_it(tmp_path):
    book = _book(tmp_path, '[book]\ntitle = "Hafen"\n', {"a.md": f"---\ntitle: Eins\n---\n{GERMAN}"})
    _, diagnostics = load_book(book)
    [found] = _codes(diagnostics, "C012")
    assert "the default" in found.message and "German" in found.message
    assert found.hint == 'set it in book.toml: language = "de" in [book]'
    assert (found.path, found.line) == (book / "book.toml", 1)


def test_an_articles_own_language_is_m014_at_its_front_matter_line(tmp_path):
    book = _book(tmp_path, '[book]\ntitle = "Harbour"\nlanguage = "en"\n',
                 {"a.md": f"---\ntitle: One\n---\n{ENGLISH}",
                  "b.md": f"---\ntitle: Two\nlang: fr\n---\n{ENGLISH}"})
    _, diagnostics = load_book(book)
    [found] = _codes(diagnostics, "C012", "M014")
    assert found.code == "M014" and found.path == book / "b.md"
    assert (found.line, found.column) == (3, 7)
    assert found.message == "language 'fr' is French, but the article's text reads as English: did you mean 'en'?"
    assert found.hint == "write lang: en"


def test_one_german_article_in_an_english_book_is_m014_not_c012(tmp_path):
    book = _book(tmp_path, '[book]\ntitle = "Harbour"\nlanguage = "en-GB"\n',
                 {"a.md": f"---\ntitle: One\n---\n{ENGLISH}", "b.md": f"---\ntitle: Two\n---\n{ENGLISH}",
                  "c.md": f"---\ntitle: Drei\n---\n{GERMAN}"})
    _, diagnostics = load_book(book)
    [found] = _codes(diagnostics, "C012", "M014")
    assert found.code == "M014" and found.path == book / "c.md" and found.line == 1
    assert "reads as German" in found.message and "'en-GB'" in found.message
    assert found.hint == "give it its own: add 'language: de' to its front matter"


def test_matching_related_and_short_texts_are_not_judged(tmp_path):
    assert not read_as("en-GB", prose(ENGLISH * 2)).mismatch
    assert not read_as("de-CH", prose(GERMAN)).mismatch
    assert not read_as("gsw", prose(GERMAN)).mismatch  # a variety the detector does not know apart
    assert read_as("uk", "A short English line.").detected == ""  # too short: no verdict
    book = _book(tmp_path, '[book]\ntitle = "Harbour"\nlanguage = "de"\n',
                 {"a.md": "---\ntitle: One\n---\nA short English note.\n"})
    assert _codes(load_book(book)[1], "C012", "M014") == []


@pytest.mark.parametrize("written, meant", [("english", "en"), ("Deutsch", "de"), ("Français", "fr"),
                                            ("en_GB", "en-GB")])
def test_a_language_name_suggests_its_tag_in_book_toml_and_front_matter(tmp_path, written, meant):
    book = _book(tmp_path, f'[book]\ntitle = "T"\nlanguage = "{written}"\n',
                 {"a.md": f"---\ntitle: A\nlanguage: {written}\n---\nText.\n"})
    _, diagnostics = load_book(book)
    [config] = _codes(diagnostics, "C003")
    [front] = _codes(diagnostics, "M002")
    assert config.hint.startswith(f"did you mean '{meant}'?") and config.line == 3
    assert front.hint.startswith(f"did you mean '{meant}'?") and (front.line, front.column) == (3, 11)
    assert _codes(diagnostics, "C012", "M014") == []  # a refused language is not judged again


def test_the_projects_own_book_is_not_warned():
    _, diagnostics = load_book(MANUSCRIPTS)
    assert _codes(diagnostics, "C012", "M014") == []


WORLD = SHARED / "corpus-world"
LANGUAGES = {"ar": "ar", "bn": "bn", "bo": "bo", "ckb": "ckb", "de": "de", "el": "el", "fa": "fa", "hi": "hi",
             "ja": "ja", "km": "km", "ko": "ko", "my": "my", "ru": "ru", "tr": "tr", "ur": "ur", "vi": "vi",
             "yue": "yue", "zh": "zh-Hans"}


def _world() -> Path:
    if not WORLD.is_dir():
        pytest.skip("../shared/corpus-world is not available")
    return WORLD


@pytest.mark.parametrize("folder", sorted(LANGUAGES))
def test_each_world_language_is_not_warned_in_its_language_and_is_as_english(tmp_path, folder):
    """Each story in its own language: silent. The same story said to be
    English: C012 wherever it is long enough to judge (in most folders)."""
    stories = {p.name: p.read_text(encoding="utf-8") for p in sorted((_world() / folder).glob("*.md"))}
    own = _book(tmp_path / "own", f'[book]\ntitle = "W"\nlanguage = "{LANGUAGES[folder]}"\n', stories)
    assert _codes(load_book(own)[1], "C012", "M014") == []
    english = _book(tmp_path / "en", '[book]\ntitle = "W"\nlanguage = "en"\n', stories)
    judged = any(read_as("en", prose(text)).detected for text in stories.values())
    assert bool(_codes(load_book(english)[1], "C012")) == judged


def test_all_world_languages_in_one_english_book_each_with_its_own_are_not_warned(tmp_path):
    stories = {}
    for folder, language in sorted(LANGUAGES.items()):
        for story in sorted((_world() / folder).glob("*.md")):
            stories[f"{folder}-{story.name}"] = f"---\nlanguage: {language}\n---\n{story.read_text(encoding='utf-8')}"
    book = _book(tmp_path, '[book]\ntitle = "World"\nlanguage = "en"\n', stories)
    assert _codes(load_book(book)[1], "C012", "M014") == []
    claimed = _book(tmp_path / "claimed", '[book]\ntitle = "World"\nlanguage = "en"\n',
                    {name: text.replace("---\nlanguage: ", "---\nlanguage: en\nx-language: ", 1)
                     for name, text in stories.items()})
    found = _codes(load_book(claimed)[1], "C012", "M014")
    judged = [name for name, text in stories.items() if read_as("en", prose(text)).detected]
    assert sorted(d.path.name for d in found) == sorted(judged) and len(judged) >= 12
    assert all(d.code == "M014" and d.line == 2 for d in found)


def test_the_model_is_unpacked_once_per_machine_and_a_damaged_copy_is_replaced(tmp_path, monkeypatch):
    """pipeline/load/langmodel.py: the first identifier unpacks py3langid's
    model into the cache folder; the next maps it from there and ranks as
    py3langid's own does; a damaged copy is passed over and written again."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    import numpy

    from pipeline.load import langmodel

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    own = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    samples = (ENGLISH, GERMAN, "Ceci n'est pas une pipe, mais une phrase en français sur la mer et le port.")

    first = langmodel.identifier()
    [folder] = (tmp_path / "cache" / "pipeline").glob("py3langid-*")
    assert sorted(path.name for path in folder.iterdir()) == [
        "classes.json", "nextmove.npy", "output.npy", "pc.npy", "ptc.npy", "row.npy"]
    mapped = langmodel.identifier()
    assert isinstance(mapped.tk_nextmove, memoryview) and not isinstance(first.tk_nextmove, memoryview)
    assert [mapped.rank(text) for text in samples] == [own.rank(text) for text in samples]

    (folder / "ptc.npy").write_bytes((folder / "ptc.npy").read_bytes()[:4096])  # cut short
    again = langmodel.identifier()
    assert not isinstance(again.tk_nextmove, memoryview)  # unpacked, not read from the damaged copy
    assert [again.rank(text) for text in samples] == [own.rank(text) for text in samples]
    assert isinstance(langmodel.identifier().tk_nextmove, memoryview)  # written again, whole

    numpy.save(folder / "ptc.npy", numpy.zeros_like(numpy.load(folder / "ptc.npy")))  # right shape, no model
    assert not isinstance(langmodel.identifier().tk_nextmove, memoryview)
    (folder / "classes.json").unlink()
    (folder / "classes.json").symlink_to("/dev/zero")  # a device that reads without end: no file
    assert not isinstance(langmodel.identifier().tk_nextmove, memoryview)
    numpy.save(folder / "nextmove.npy", numpy.load(folder / "nextmove.npy").astype(">u4"))  # another byte order
    swapped = langmodel.identifier()
    assert not isinstance(swapped.tk_nextmove, memoryview)
    assert [swapped.rank(text) for text in samples] == [own.rank(text) for text in samples]
    assert [path.name for path in (tmp_path / "cache" / "pipeline").iterdir()] == [folder.name]


def test_a_plain_tag_reads_as_langcodes_reads_it():
    """_primary's fast path (a two-letter tag, with or without a region,
    read without loading langcodes) agrees with langcodes on every one."""
    import itertools
    import string

    import langcodes

    from pipeline.load.language import Reading, primary_language

    for pair in itertools.product(string.ascii_lowercase, repeat=2):
        for tag in ("".join(pair), "".join(pair) + "-GB"):
            try:
                expected = langcodes.standardize_tag(tag, macro=True).split("-", 1)[0].lower()
            except (ValueError, LookupError):
                expected = tag.split("-", 1)[0]
            # the suggestion for English read under the tag: 'en-GB' only for 'uk'
            assert (Reading(tag, "en").suggestion == "en-GB") == (expected == "uk"), tag
            assert primary_language(tag) == {"nb": "no", "nn": "no"}.get(expected, expected), tag
