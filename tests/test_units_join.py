"""Unit tests for `pipeline.export.pdf.join.join`: parts made with pikepdf
(a few blank pages each, named destinations, link annotations, a furniture
document), joined, and read back with pypdf the way a reader's viewer would
follow them."""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name, NameTree, String
from pypdf import PdfReader

from pipeline.export.pdf.join import BODY_LINK, join

BASE = "https://book.invalid/"
WIDTH, HEIGHT = 300, 420


def _part(pages: int, names: dict[str, int], links: dict[int, list[str]] | None = None,
          wrapped: frozenset[str] = frozenset(), size: tuple[int, int] = (WIDTH, HEIGHT)) -> bytes:
    """A PDF of `pages` pages; `names` are destinations (name -> page index,
    the page's index written as the destination's top so it can be checked
    after the join); `links` are URI links per page index. Names in
    `wrapped` are written as a dictionary with /D, as some producers do."""
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=size)
    tree = NameTree.new(pdf)
    for name, page in names.items():
        target = Array([pdf.pages[page].obj, Name.XYZ, 0, 1000 + page, 0])
        tree[name] = Dictionary(D=target) if name in wrapped else target
    pdf.Root.Names = Dictionary(Dests=tree.obj)
    for page, uris in (links or {}).items():
        pdf.pages[page].Annots = pdf.make_indirect(Array([
            pdf.make_indirect(Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=[10, 10 + 20 * i, 100, 25 + 20 * i],
                                         A=Dictionary(S=Name.URI, URI=String(uri))))
            for i, uri in enumerate(uris)]))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _furniture(pages: int, text: dict[int, str] | None = None) -> bytes:
    """A furniture document: `pages` pages, empty but for `text` (page index ->
    text) set in Helvetica under the resource name /F1."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica))
    for index in range(pages):
        pdf.add_blank_page(page_size=(WIDTH, HEIGHT))
        if text and index in text:
            page = pdf.pages[index]
            page.obj.Resources = Dictionary(Font=Dictionary(F1=font))
            page.obj.Contents = pikepdf.Stream(pdf, f"BT /F1 9 Tf 20 20 Td ({text[index]}) Tj ET".encode())
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _empty_furniture(parts: list[bytes]) -> list[bytes]:
    """An empty furniture document for each part after the first, of its length."""
    return [_furniture(len(pikepdf.open(io.BytesIO(part)).pages)) for part in parts[1:]]


def _join(tmp_path: Path, parts: list[bytes], blank_after: list[bool], front_count: int,
          language: str = "en", furniture: list[bytes] | None = None) -> PdfReader:
    target = tmp_path / "book.pdf"
    furniture = furniture or _empty_furniture(parts)
    join(parts, blank_after, furniture, front_count, language, BASE, b"0123456789abcdef", target)
    return PdfReader(target)


def _destinations(reader: PdfReader) -> dict[str, tuple[int, float]]:
    """Each name: the page it opens (index in the joined book) and its top."""
    return {name: (reader.get_destination_page_number(dest), float(dest.top))
            for name, dest in reader.named_destinations.items()}


def _link_targets(reader: PdfReader) -> list[list[str]]:
    """Per page, each link's named destination (or 'URI:...' if still a URI)."""
    pages = []
    for page in reader.pages:
        found = []
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            if "/Dest" in annotation:
                found.append(str(annotation["/Dest"]))
            elif "/A" in annotation:
                found.append("URI:" + str(annotation["/A"]["/URI"]))
        pages.append(found)
    return pages


@pytest.fixture
def book(tmp_path) -> PdfReader:
    """Front matter (3 pages: title, contents linking into both chunks, a
    web link), a blank verso, a first chunk of 3 pages, a blank verso, a
    second chunk of 2 pages."""
    front = _part(3, {"title": 0, "contents": 1}, links={1: [
        f"{BASE}#one", f"{BASE}#one--section", f"{BASE}#two", "https://example.org/#one"]})
    first = _part(3, {"one": 0, "one--section": 2, "note-1": 1}, links={2: [f"{BODY_LINK}two--end"]},
                  wrapped=frozenset({"one--section"}))
    second = _part(2, {"two": 0, "two--end": 1})
    return _join(tmp_path, [front, first, second], [True, True, False], front_count=4)


def test_every_part_s_destinations_open_its_pages_in_the_joined_book(book):
    assert len(book.pages) == 3 + 1 + 3 + 1 + 2
    assert _destinations(book) == {
        "title": (0, 1000), "contents": (1, 1001),
        "one": (4, 1000), "note-1": (5, 1001), "one--section": (6, 1002),  # /D dictionaries too
        "two": (8, 1000), "two--end": (9, 1001),
    }


def test_links_to_the_book_and_between_chunks_become_named_destinations(book):
    links = _link_targets(book)
    assert links[1] == ["one", "one--section", "two", "URI:https://example.org/#one"]  # a web link stays one
    assert links[6] == ["two--end"]
    every = [target for page in links for target in page]
    assert not [t for t in every if t.startswith(("URI:" + BASE, "URI:" + BODY_LINK))]
    names = book.named_destinations
    assert all(t in names for t in every if not t.startswith("URI:"))  # no dead link


def test_blank_pages_follow_the_parts_so_marked_in_their_size(tmp_path):
    reader = _join(tmp_path, [_part(1, {"a": 0}, size=(200, 250)), _part(1, {"b": 0}, size=(200, 250)),
                              _part(1, {"c": 0}, size=(200, 250))], [True, False, True], front_count=2)
    assert len(reader.pages) == 5
    assert _destinations(reader) == {"a": (0, 1000), "b": (2, 1000), "c": (3, 1000)}
    assert not reader.pages[1].get_contents() and not reader.pages[4].get_contents()
    assert [tuple(map(float, page.mediabox[2:])) for page in reader.pages] == [(200, 250)] * 5


def test_page_labels_roman_for_the_front_matter_then_arabic_from_one(book):
    assert book.page_labels == ["i", "ii", "iii", "iv", "1", "2", "3", "4", "5", "6"]


def test_language_identifier_and_reading_direction(tmp_path, book):
    assert book.trailer["/Root"]["/Lang"] == "en"
    assert "/ViewerPreferences" not in book.trailer["/Root"]
    assert book.trailer["/ID"][0].original_bytes == b"0123456789abcdef"
    rtl = _join(tmp_path, [_part(1, {}), _part(1, {})], [False, False], front_count=1, language="ar")
    assert rtl.trailer["/Root"]["/Lang"] == "ar"
    assert rtl.trailer["/Root"]["/ViewerPreferences"]["/Direction"] == "/R2L"


def test_a_destination_to_a_page_not_in_its_part_is_dropped_not_misplaced(tmp_path):
    other = pikepdf.open(io.BytesIO(_part(1, {})))
    pdf = pikepdf.open(io.BytesIO(_part(2, {"kept": 1})))
    tree = NameTree(pdf.Root.Names.Dests)
    tree["stray"] = Array([pdf.copy_foreign(other.pages[0].obj), Name.Fit])  # a page of no part
    out = io.BytesIO()
    pdf.save(out)
    reader = _join(tmp_path, [_part(1, {"front": 0}), out.getvalue()], [True, False], front_count=2)
    assert _destinations(reader) == {"front": (0, 1000), "kept": (3, 1001)}


def test_the_join_is_reproducible(tmp_path):
    parts = [_part(2, {"a": 1}, links={0: [f"{BASE}#b"]}), _part(1, {"b": 0})]
    first, second = tmp_path / "1.pdf", tmp_path / "2.pdf"
    furniture = [_furniture(1, {0: "2"})]
    join(parts, [False, False], furniture, 1, "en", BASE, b"id", first)
    join(parts, [False, False], furniture, 1, "en", BASE, b"id", second)
    assert first.read_bytes() == second.read_bytes()


def _page_with_font(name: str, base_font: str, text: str) -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(WIDTH, HEIGHT))
    font = pdf.make_indirect(Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name(f"/{base_font}")))
    pdf.pages[0].obj.Resources = Dictionary(Font=Dictionary({f"/{name}": font}))
    pdf.pages[0].obj.Contents = pikepdf.Stream(pdf, f"BT /{name} 11 Tf 30 300 Td ({text}) Tj ET".encode())
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def test_the_furniture_is_drawn_over_its_body_page_with_its_own_resources(tmp_path):
    # Body and furniture both call their font /F1: after the join each page
    # still draws its text in its own font, and the furniture's folio is on
    # the body page it belongs to (the front page and the blank one get none).
    front = _part(1, {})
    body = [_page_with_font("F1", "Courier", "Body one"), _page_with_font("F1", "Courier", "Body two")]
    furniture = [_furniture(1, {0: "7"}), _furniture(1, {0: "9"})]
    reader = _join(tmp_path, [front, *body], [True, True, False], front_count=2, furniture=furniture)
    texts = [page.extract_text() for page in reader.pages]
    assert texts[0] == "" and texts[1] == ""  # the front page, the blank after it
    assert "Body one" in texts[2] and texts[2].rstrip().endswith("7")
    assert texts[3] == ""  # the blank page after the first chunk: its furniture page is empty
    assert "Body two" in texts[4] and texts[4].rstrip().endswith("9")
    fonts = reader.pages[2]["/Resources"]["/Font"]
    assert str(fonts["/F1"]["/BaseFont"]) == "/Courier" and str(fonts["/FuF1"]["/BaseFont"]) == "/Helvetica"


def test_a_furniture_of_the_wrong_length_is_refused(tmp_path):
    with pytest.raises(ValueError, match="furniture"):
        join([_part(1, {}), _part(2, {})], [True, False], [_furniture(3)], 2, "en", BASE, b"id", tmp_path / "x.pdf")
    with pytest.raises(ValueError, match="furniture"):
        join([_part(1, {}), _part(2, {})], [True, False], [], 2, "en", BASE, b"id", tmp_path / "y.pdf")
