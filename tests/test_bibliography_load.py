"""Bibliographies read into the model (pipeline/load/bibliography.py): the
same six references written in BibTeX, CSL-JSON, CSL-YAML, RIS and PubMed
NBIB give the same CSL-JSON core fields; each entry keeps its file and line;
broken, missing, duplicate and refused sources are located messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.load.bibliography import BUNDLED_STYLES, bundled_style_path, derived_key
from pipeline.load.manuscripts import load_book

# The fixtures: a journal article with DOI, PMID and PMCID, a book, a chapter, a report by an
# organisation, a web page with its access date, a preprint on arXiv. Invented for these tests.
BIBTEX = r"""@string{jsr = "Journal of Sleep Research"}

@article{smith2020,
  author  = {Smith, Jane and M{\"u}ller, Hans-J{\"o}rg},
  title   = {Sleep duration and blood pressure in {adults}},
  journal = jsr,
  year    = {2020},
  month   = mar,
  volume  = {29},
  number  = {2},
  pages   = {101--109},
  doi     = {https://doi.org/10.1111/jsr.12345},
  pmid    = {31234567},
  pmcid   = {PMC7654321},
}

@book{walker2017,
  author    = {Walker, Matthew},
  title     = {Why We Sleep},
  publisher = {Scribner},
  address   = {New York},
  year      = 2017,
}

@incollection{jones2019,
  author    = {Jones, Anna},
  editor    = {Brown, Paul},
  title     = {Circadian rhythms},
  booktitle = {Handbook of Sleep Medicine},
  publisher = {Springer},
  year      = {2019},
  pages     = {45--67},
}

@techreport{who2021,
  author      = {{World Health Organization}},
  title       = {Global report on sleep health},
  institution = {World Health Organization},
  year        = {2021},
}

@online{nhs2023,
  author  = {{National Health Service}},
  title   = {Insomnia},
  url     = {https://www.nhs.uk/conditions/insomnia/},
  year    = {2023},
  urldate = {2024-01-15},
}

@misc{lee2024,
  author        = {Lee, Min-jun and Garc{\'\i}a, Ana},
  title         = {A randomised trial of sleep hygiene apps},
  year          = {2024},
  month         = jan,
  eprint        = {2401.01234},
  archiveprefix = {arXiv},
  doi           = {10.48550/arXiv.2401.01234},
}
"""

# What every format must give for each key (the core of CSL-JSON; a format may add more).
EXPECTED = {
    "smith2020": {"type": "article-journal", "title": "Sleep duration and blood pressure in adults",
                  "author": [{"family": "Smith", "given": "Jane"}, {"family": "Müller", "given": "Hans-Jörg"}],
                  "container-title": "Journal of Sleep Research", "issued": {"date-parts": [[2020, 3]]},
                  "volume": "29", "issue": "2", "page": "101-109", "DOI": "10.1111/jsr.12345",
                  "PMID": "31234567", "PMCID": "PMC7654321"},
    "walker2017": {"type": "book", "title": "Why We Sleep", "author": [{"family": "Walker", "given": "Matthew"}],
                   "publisher": "Scribner", "publisher-place": "New York", "issued": {"date-parts": [[2017]]}},
    "jones2019": {"type": "chapter", "title": "Circadian rhythms", "author": [{"family": "Jones", "given": "Anna"}],
                  "editor": [{"family": "Brown", "given": "Paul"}], "container-title": "Handbook of Sleep Medicine",
                  "publisher": "Springer", "issued": {"date-parts": [[2019]]}, "page": "45-67"},
    "who2021": {"type": "report", "title": "Global report on sleep health",
                "author": [{"literal": "World Health Organization"}], "publisher": "World Health Organization",
                "issued": {"date-parts": [[2021]]}},
    "nhs2023": {"type": "webpage", "title": "Insomnia", "author": [{"literal": "National Health Service"}],
                "URL": "https://www.nhs.uk/conditions/insomnia/", "issued": {"date-parts": [[2023]]},
                "accessed": {"date-parts": [[2024, 1, 15]]}},
    "lee2024": {"type": "article", "title": "A randomised trial of sleep hygiene apps",
                "author": [{"family": "Lee", "given": "Min-jun"}, {"family": "García", "given": "Ana"}],
                "issued": {"date-parts": [[2024, 1]]}, "DOI": "10.48550/arXiv.2401.01234"},
}

CSL_JSON = json.dumps([{"id": key, **fields} for key, fields in EXPECTED.items()], indent=2, ensure_ascii=False)

CSL_YAML = """---
references:
- id: smith2020
  type: article-journal
  title: Sleep duration and blood pressure in adults
  author:
    - family: Smith
      given: Jane
    - family: Müller
      given: Hans-Jörg
  container-title: Journal of Sleep Research
  issued: 2020-03
  volume: 29
  issue: 2
  page: 101-109
  DOI: 10.1111/jsr.12345
  PMID: "31234567"
  PMCID: PMC7654321
- id: walker2017
  type: book
  title: Why We Sleep
  author: ["Walker, Matthew"]
  publisher: Scribner
  publisher-place: New York
  issued: 2017
- id: jones2019
  type: chapter
  title: Circadian rhythms
  author: [{family: Jones, given: Anna}]
  editor: [{family: Brown, given: Paul}]
  container-title: Handbook of Sleep Medicine
  publisher: Springer
  issued: {date-parts: [[2019]]}
  page: 45-67
- id: who2021
  type: report
  title: Global report on sleep health
  author: [{literal: World Health Organization}]
  publisher: World Health Organization
  issued: 2021
- id: nhs2023
  type: webpage
  title: Insomnia
  author: [{literal: National Health Service}]
  URL: https://www.nhs.uk/conditions/insomnia/
  issued: 2023
  accessed: 2024-01-15
- id: lee2024
  type: article
  title: A randomised trial of sleep hygiene apps
  author: [{family: Lee, given: Min-jun}, {family: García, given: Ana}]
  issued: 2024-01
  DOI: 10.48550/arXiv.2401.01234
...
"""

RIS = """TY  - JOUR
ID  - smith2020
AU  - Smith, Jane
AU  - Müller, Hans-Jörg
TI  - Sleep duration and blood pressure in adults
T2  - Journal of Sleep Research
PY  - 2020
DA  - 2020/03//
VL  - 29
IS  - 2
SP  - 101
EP  - 109
DO  - 10.1111/jsr.12345
ER  - 

TY  - BOOK
AU  - Walker, Matthew
TI  - Why We Sleep
PB  - Scribner
CY  - New York
PY  - 2017
ER  - 

TY  - CHAP
AU  - Jones, Anna
A2  - Brown, Paul
TI  - Circadian rhythms
T2  - Handbook of Sleep Medicine
PB  - Springer
PY  - 2019
SP  - 45
EP  - 67
ER  - 

TY  - RPRT
ID  - who2021
AU  - World Health Organization
TI  - Global report on sleep health
PB  - World Health Organization
PY  - 2021
ER  - 

TY  - ELEC
ID  - nhs2023
AU  - National Health Service
TI  - Insomnia
UR  - https://www.nhs.uk/conditions/insomnia/
PY  - 2023
Y2  - 2024/01/15
ER  - 

TY  - PREPRINT
AU  - Lee, Min-jun
AU  - García, Ana
TI  - A randomised trial of sleep hygiene apps
DA  - 2024/01
DO  - 10.48550/arXiv.2401.01234
ER  - 
"""

# PubMed's MEDLINE format: no web page (PubMed has none), and no key (derived: smith2020…).
NBIB = """PMID- 31234567
OWN - NLM
STAT- MEDLINE
DP  - 2020 Mar
TI  - Sleep duration and blood pressure in adults.
PG  - 101-9
LID - 10.1111/jsr.12345 [doi]
AB  - Background: an invented abstract long enough to be continued on
      a second line, as PubMed wraps it.
FAU - Smith, Jane
AU  - Smith J
FAU - Müller, Hans-Jörg
AU  - Müller HJ
LA  - eng
PT  - Journal Article
TA  - J Sleep Res
JT  - Journal of Sleep Research
VI  - 29
IP  - 2
PMC - PMC7654321

PMID- 30000001
DP  - 2017
TI  - Why We Sleep
FAU - Walker, Matthew
PT  - Book
BTI - Why We Sleep
PB  - Scribner
PL  - New York

PMID- 30000002
DP  - 2019
TI  - Circadian rhythms
BTI - Handbook of Sleep Medicine
FAU - Jones, Anna
FED - Brown, Paul
PT  - Book Chapter
PB  - Springer
PG  - 45-67

PMID- 30000003
DP  - 2021
TI  - Global report on sleep health
CN  - World Health Organization
PT  - Technical Report
PB  - World Health Organization

PMID- 38000004
DP  - 2024 Jan 5
TI  - A randomised trial of sleep hygiene apps.
FAU - Lee, Min-jun
FAU - García, Ana
PT  - Preprint
AID - 10.48550/arXiv.2401.01234 [doi]
JT  - arXiv
"""


def _book(folder: Path, files: dict[str, str], toml_extra: str = "", manuscript: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    names = [name for name in files if not name.startswith("_")]
    listed = ", ".join(json.dumps(name) for name in names)
    (folder / "book.toml").write_text(f'[book]\ntitle = "Sleep"\nbibliography = [{listed}]\n{toml_extra}',
                                      encoding="utf-8")
    for name, text in files.items():
        path = folder / name.lstrip("_")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (folder / "01-a.md").write_text(manuscript or "---\ntitle: A\n---\n\nText.\n", encoding="utf-8")
    return folder


def _core(reference, expected: dict) -> dict:
    return {key: reference.csl.get(key) for key in expected}


@pytest.mark.parametrize("name, text", [("refs.bib", BIBTEX), ("refs.json", CSL_JSON), ("refs.yaml", CSL_YAML),
                                        ("refs.ris", RIS), ("refs.nbib", NBIB)])
def test_each_format_gives_the_same_csl_core_fields(tmp_path, name, text):
    book, diagnostics = load_book(_book(tmp_path / "b", {name: text}))
    assert [d for d in diagnostics if d.code.startswith("B")] == []
    found = {reference.key: reference for reference in book.references}
    expected = {key: value for key, value in EXPECTED.items() if not (name.endswith(".nbib") and key == "nhs2023")}
    if name.endswith(".nbib"):  # MEDLINE's dates are as precise as PubMed has them
        expected = {**expected, "lee2024": {**expected["lee2024"], "issued": {"date-parts": [[2024, 1, 5]]}}}
    if name.endswith(".ris"):  # RIS has no PMID or PMCID tag
        expected["smith2020"] = {k: v for k, v in expected["smith2020"].items() if k not in ("PMID", "PMCID")}
    if name.endswith(".nbib"):  # no key in PubMed's records: derived from the first author (an organisation's first word)
        expected["world2021"] = expected.pop("who2021")
    assert set(found) == set(expected)
    for key, fields in expected.items():
        assert _core(found[key], fields) == fields, (name, key)
        assert found[key].csl["id"] == key and found[key].path == tmp_path / "b" / name


def test_each_entry_keeps_the_line_it_starts_on(tmp_path):
    lines = {}
    for name, text in (("refs.bib", BIBTEX), ("refs.json", CSL_JSON), ("refs.yaml", CSL_YAML), ("refs.ris", RIS),
                       ("refs.nbib", NBIB)):
        book, _ = load_book(_book(tmp_path / name, {name: text}))
        lines.update({(r.path.name, r.key): r.line for r in book.references})
    for name, text in (("refs.bib", BIBTEX), ("refs.json", CSL_JSON), ("refs.yaml", CSL_YAML)):
        rows = text.split("\n")
        for key in EXPECTED:
            row = rows[lines.get((name, key), 0) - 1]
            assert key in row, (name, key, row)
    rows = RIS.split("\n")
    assert all(rows[line - 1].startswith("TY  - ") for (name, _), line in lines.items() if name == "refs.ris")
    rows = NBIB.split("\n")
    assert all(rows[line - 1].startswith("PMID- ") for (name, _), line in lines.items() if name == "refs.nbib")
    assert lines[("refs.bib", "smith2020")] == 3


def test_the_same_key_in_two_files_is_a_warning_naming_both_places(tmp_path):
    book, diagnostics = load_book(_book(tmp_path / "b", {"refs.bib": BIBTEX, "refs.json": CSL_JSON}))
    twice = [d for d in diagnostics if d.code == "B003"]
    assert len(twice) == len(EXPECTED) and all(not d.is_error for d in twice)
    first = next(d for d in twice if "'smith2020'" in d.message)
    assert first.path.name == "refs.json" and first.line == CSL_JSON.split("\n").index('    "id": "smith2020",') + 1
    assert "refs.bib:3" in first.message
    assert [r.path.name for r in book.references] == ["refs.bib"] * len(EXPECTED)  # the first is used


def test_a_key_twice_in_one_bibtex_file(tmp_path):
    text = "@book{a, title={One}}\n\n@book{a, title={Two}}\n"
    book, diagnostics = load_book(_book(tmp_path / "b", {"refs.bib": text}))
    [d] = [d for d in diagnostics if d.code == "B003"]
    assert (d.path.name, d.line) == ("refs.bib", 3) and "refs.bib:1" in d.message
    assert [r.csl["title"] for r in book.references] == ["One"]


@pytest.mark.parametrize("name, text, line, column, said", [
    ("refs.bib", "@book{ok, title={Fine}}\n@article{broken, title = {never closed\n@book{next, title={N}}\n",
     2, 1, "noticed on line 3"),
    ("refs.json", '[\n  {"id": "a", "type": "book"},\n  {"id": "b" "type": "book"}\n]\n', 3, 14, "not valid JSON"),
    ("refs.yaml", "- id: a\n  title: [unclosed\n- id: b\n", 2, 10, "noticed on line 3"),
    ("refs.yaml", "- id: a\n  author: &who [{literal: X}]\n- id: b\n  author: *who\n", 2, 11, "anchor or alias"),
    ("refs.ris", "TY  - JOUR\nTI  - One\nER  - \n\nTY  - BOOK\nTI  - Never closed\n", 5, 1, "not closed"),
    ("refs.nbib", "PMID- 1\nTI  - A title\nthis line has no tag\n", 3, 1, "neither"),
])
def test_a_malformed_bibliography_is_an_error_at_its_line(tmp_path, name, text, line, column, said):
    _, diagnostics = load_book(_book(tmp_path / "b", {name: text}))
    [d] = [d for d in diagnostics if d.code == "B002"]
    assert d.is_error and (d.path.name, d.line, d.column) == (name, line, column) and said in d.message, d.format()


def test_a_missing_or_outside_file_is_located_in_book_toml_with_the_nearest_name(tmp_path):
    (tmp_path / "secret.bib").write_text("@book{s, title={S}}\n", encoding="utf-8")
    folder = _book(tmp_path / "b", {"_refs.bib": BIBTEX})
    (folder / "book.toml").write_text('[book]\ntitle = "Sleep"\nbibliography = ["ref.bib", "../secret.bib", '
                                      '"notes.txt"]\n', encoding="utf-8")
    book, diagnostics = load_book(folder)
    found = {d.code: d for d in diagnostics if d.code.startswith("B")}
    missing, outside = [d for d in diagnostics if d.code == "B001"]
    assert (missing.path.name, missing.line, missing.column) == ("book.toml", 3, 17)
    assert "'ref.bib' does not exist" in missing.message and "did you mean 'refs.bib'?" in missing.hint
    assert outside.column == 28 and "outside the book folder" in outside.message
    assert found["B004"].is_error and ".bib" in found["B004"].hint and ".nbib" in found["B004"].hint
    assert book.references == ()


def test_a_link_out_of_the_book_is_refused(tmp_path):
    (tmp_path / "secret.bib").write_text("@book{s, title={S}}\n", encoding="utf-8")
    folder = _book(tmp_path / "b", {"_x.md": ""})
    (folder / "refs.bib").symlink_to(tmp_path / "secret.bib")
    (folder / "book.toml").write_text('[book]\ntitle = "Sleep"\nbibliography = "refs.bib"\n', encoding="utf-8")
    book, diagnostics = load_book(folder)
    [d] = [d for d in diagnostics if d.code == "B001"]
    assert "outside the book folder" in d.message and book.references == ()


def test_an_article_s_own_bibliography_inline_references_and_nocite(tmp_path):
    manuscript = ("---\ntitle: Sleep\nbibliography: sources/more.json\nnocite: \"@walker2017, @*\"\n"
                  "references:\n  - id: own2022\n    type: book\n    title: Our own\n    issued: 2022-05-01\n"
                  "    author: [\"Doe, Jane\"]\n  - type: book\n    title: No key\n---\n\nText.\n")
    folder = _book(tmp_path / "b", {"refs.bib": BIBTEX, "_sources/more.json": CSL_JSON.replace("smith2020", "x1")},
                   manuscript=manuscript)
    book, diagnostics = load_book(folder)
    [article] = book.articles
    assert article.nocite == ("walker2017", "@*")
    own = {r.key: r for r in article.references}
    assert own["own2022"].csl == {"id": "own2022", "type": "book", "title": "Our own",
                                  "issued": {"date-parts": [[2022, 5, 1]]},
                                  "author": [{"family": "Doe", "given": "Jane"}]}
    assert (own["own2022"].path.name, own["own2022"].line) == ("01-a.md", 6)
    assert own["x1"].path == folder / "sources" / "more.json"
    [keyless] = [d for d in diagnostics if d.code == "B005"]
    assert not keyless.is_error
    shared = sorted(d.message.split("'")[1] for d in diagnostics if d.code == "B003")
    assert shared == sorted(set(EXPECTED) - {"smith2020"})  # the article's own over the book's, said once each
    assert {r.key for r in book.references} == set(EXPECTED)


def test_front_matter_values_of_the_wrong_kind_are_m002(tmp_path):
    manuscript = "---\ntitle: A\nbibliography: {file: x.bib}\nreferences: smith2020\n---\n\nText.\n"
    _, diagnostics = load_book(_book(tmp_path / "b", {"refs.bib": BIBTEX}, manuscript=manuscript))
    assert sorted((d.code, d.line) for d in diagnostics if d.code == "M002") == [("M002", 3), ("M002", 4)]


def test_an_article_s_missing_file_is_located_in_its_front_matter(tmp_path):
    manuscript = "---\ntitle: A\nbibliography: [refs.bib, sources/pubmed.nbb]\n---\n\nText.\n"
    folder = _book(tmp_path / "b", {"_refs.bib": BIBTEX, "_sources/pubmed.nbib": NBIB}, manuscript=manuscript)
    (folder / "book.toml").write_text('[book]\ntitle = "Sleep"\n', encoding="utf-8")
    book, diagnostics = load_book(folder)
    assert [d.code for d in diagnostics] == ["B004"]
    assert diagnostics[0].line == 3 and diagnostics[0].path.name == "01-a.md"
    assert {r.key for r in book.articles[0].references} == set(EXPECTED)


def test_styles_bundled_a_book_s_own_file_and_mistakes(tmp_path):
    for name in BUNDLED_STYLES:
        assert bundled_style_path(name).is_file()
    folder = _book(tmp_path / "b", {"refs.bib": BIBTEX}, toml_extra='csl = "vancover"\n')
    book, diagnostics = load_book(folder)
    [d] = [d for d in diagnostics if d.code == "B006"]
    assert d.line == 4 and "did you mean 'vancouver'?" in d.hint and book.config.csl == "apa"
    own = folder / "styles" / "mine.csl"
    own.parent.mkdir()
    own.write_bytes(bundled_style_path("apa").read_bytes())
    (folder / "book.toml").write_text('[book]\ntitle = "Sleep"\ncsl = "styles/mine.csl"\n', encoding="utf-8")
    book, diagnostics = load_book(folder)
    assert diagnostics == [] and book.csl_style == own.resolve()
    own.write_text("<html><body>not a style</body></html>", encoding="utf-8")
    book, diagnostics = load_book(folder)
    [d] = diagnostics
    assert d.code == "B006" and "not a CSL style" in d.message and book.csl_style is None
    (folder / "book.toml").write_text('[book]\ntitle = "Sleep"\ncsl = "styles/mne.csl"\n', encoding="utf-8")
    [d] = load_book(folder)[1]
    assert d.code == "B006" and "did you mean 'styles/mine.csl'?" in d.hint


def test_book_toml_options_are_checked(tmp_path):
    folder = _book(tmp_path / "b", {"refs.bib": BIBTEX})
    (folder / "book.toml").write_text('[book]\ntitle = "S"\nbibliography = 3\nreferences = "chapter"\n',
                                      encoding="utf-8")
    _, diagnostics = load_book(folder)
    assert sorted((d.code, d.line) for d in diagnostics) == [("C003", 3), ("C003", 4)]
    (folder / "book.toml").write_text('[book]\ntitle = "S"\nbibliography = "refs.bib"\nreferences = "book"\n',
                                      encoding="utf-8")
    book, diagnostics = load_book(folder)
    assert diagnostics == [] and book.config.references_scope == "book" and len(book.references) == 6


def test_derived_keys_follow_the_first_author_and_year():
    assert derived_key({"author": [{"family": "Müller-Lüdenscheidt"}], "issued": {"date-parts": [[2019]]}}) \
        == "mullerludenscheidt2019"
    assert derived_key({"author": [{"literal": "World Health Organization"}], "issued": {"date-parts": [[2021]]}}) \
        == "world2021"
    assert derived_key({"title": "On sleep"}) == "sleep"


def test_two_derived_keys_alike_get_letters(tmp_path):
    text = "TY  - JOUR\nAU  - Smith, A\nPY  - 2020\nTI  - One\nER  - \n\nTY  - JOUR\nAU  - Smith, B\nPY  - 2020\n" \
           "TI  - Two\nER  - \n"
    book, _ = load_book(_book(tmp_path / "b", {"refs.ris": text}))
    assert [(r.key, r.csl["title"]) for r in book.references] == [("smith2020", "One"), ("smith2020a", "Two")]
