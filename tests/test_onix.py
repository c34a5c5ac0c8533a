"""ONIX 3.0 (#31): `--format onix` writes `<slug>.onix.xml`, a record a
distributor takes, valid against EDItEUR's XSD (as the onixcheck package
ships it), its accessibility what the EPUB's package declares and its
extent the PDF's pages."""

from __future__ import annotations

import functools
import json
import re
import zipfile

import pytest
from lxml import etree
from PIL import Image
from pypdf import PdfReader

from pipeline import build

from conftest import MANUSCRIPTS, write_book

NS = {"o": "http://ns.editeur.org/onix/3.0/reference"}
OPF = {"opf": "http://www.idpf.org/2007/opf"}
ARTICLE = {"01-a.md": "---\ntitle: Alpha\n---\n\nThe text of alpha.\n"}
# What the seed book's EPUB declares, and the ONIX code each stands for, written out here
# independently of pipeline/export/onix.py (sources: the W3C schema.org/EPUB/ONIX crosswalk,
# the DAISY knowledge base's ONIX mappings; list 196 unless said).
SEED_FEATURES = {"tableOfContents": "11", "readingOrder": "13", "alternativeText": "14",
                 "printPageNumbers": "19", "structuralNavigation": "29", "displayTransformability": "36",
                 "pageNavigation": "41"}


@functools.cache
def _schema() -> etree.XMLSchema:
    schema = pytest.importorskip("onixcheck.schema", reason="onixcheck (a test dependency) ships the XSD")
    return etree.XMLSchema(etree.parse(schema.O30_XSD_REFERENCE))


def _valid(path) -> etree._Element:
    """The record, after validating it against the ONIX 3.0 reference XSD (codes included)."""
    document = etree.parse(str(path))
    schema = _schema()
    assert schema.validate(document), [f"{e.line}: {e.message}" for e in schema.error_log]
    return document.getroot()


def _built(book, out, **options) -> dict[str, object]:
    result = build(book, out, **options)
    assert result.ok and result.diagnostics == (), [d.format() for d in result.diagnostics]
    return {path.name.split(".", 1)[1]: path for path in result.outputs}


def _products(root) -> dict[str, etree._Element]:
    """The record's products by format (ProductFormDetail E101: EPUB, E107: PDF)."""
    kinds = {"E101": "epub", "E107": "pdf"}
    return {kinds[p.findtext("o:DescriptiveDetail/o:ProductFormDetail", namespaces=NS)]: p
            for p in root.findall("o:Product", NS)}


def _features(product, kind: str) -> dict[str, str]:
    """ProductFormFeatureValue -> its description, of one ProductFormFeatureType."""
    found = {}
    for feature in product.findall("o:DescriptiveDetail/o:ProductFormFeature", NS):
        if feature.findtext("o:ProductFormFeatureType", namespaces=NS) == kind:
            value = feature.findtext("o:ProductFormFeatureValue", namespaces=NS)
            found[value] = feature.findtext("o:ProductFormFeatureDescription", default="", namespaces=NS)
    return found


def _extents(product) -> dict[str, int]:
    return {e.findtext("o:ExtentType", namespaces=NS): int(e.findtext("o:ExtentValue", namespaces=NS))
            for e in product.findall("o:DescriptiveDetail/o:Extent", NS)}


def _identifiers(element) -> dict[str, str]:
    return {i.findtext("o:ProductIDType", namespaces=NS): i.findtext("o:IDValue", namespaces=NS)
            for i in element.findall("o:ProductIdentifier", NS)}


def _package(epub) -> list[tuple[str, str]]:
    with zipfile.ZipFile(epub) as archive:
        opf = etree.fromstring(archive.read(next(n for n in archive.namelist() if n.endswith(".opf"))))
    return [(m.get("property"), m.text) for m in opf.iterfind(".//opf:meta[@property]", OPF)
            if m.get("refines") is None]


def test_the_seed_book_alone_is_one_valid_epub_product_with_its_metadata(tmp_path):
    files = _built(MANUSCRIPTS, tmp_path / "out", formats=("onix",))
    assert list(files) == ["onix.xml"]  # only the record: the EPUB it reads is made aside
    root = _valid(files["onix.xml"])
    assert root.get("release") == "3.0"
    [epub] = _products(root).values()
    assert list(_products(root)) == ["epub"]
    text = lambda path: epub.findtext(path, namespaces=NS)  # noqa: E731
    assert text("o:NotificationType") == "03"
    assert text("o:DescriptiveDetail/o:ProductForm") == "ED"
    title = "o:DescriptiveDetail/o:TitleDetail/o:TitleElement/o:"
    assert text(title + "TitleText") == "Kratom and Muscle Soreness"
    assert text(title + "Subtitle").startswith("Two articles")
    assert [(c.findtext("o:SequenceNumber", namespaces=NS), c.findtext("o:ContributorRole", namespaces=NS),
             c.findtext("o:PersonName", namespaces=NS)) for c in epub.iterfind(".//o:Contributor", NS)] \
        == [("1", "A01", "The Editors")]
    assert text("o:DescriptiveDetail/o:Language/o:LanguageCode") == "eng"  # ISO 639-2/B of "en"
    assert text("o:DescriptiveDetail/o:Subject/o:SubjectSchemeIdentifier") == "20"
    assert text("o:DescriptiveDetail/o:Subject/o:SubjectHeadingText") \
        == "kratom; muscle soreness; prolactin; dopamine; natural remedies"
    assert text("o:CollateralDetail/o:TextContent/o:TextType") == "03"
    assert text("o:CollateralDetail/o:TextContent/o:Text").startswith("Two articles on kratom")
    assert text("o:PublishingDetail/o:Publisher/o:PublisherName") == "The Editors"
    assert text("o:PublishingDetail/o:PublishingDate/o:Date") == "20261123"
    assert text("o:PublishingDetail/o:PublishingDate/o:PublishingDateRole") == "01"
    assert _extents(epub) == {}  # no PDF built: no page count to give
    assert epub.find("o:ProductSupply", NS) is None and epub.find("o:RelatedMaterial", NS) is None
    assert any("ProductSupply" in c.text and "publisher" in c.text for c in epub.iter(etree.Comment))
    # No ISBN in book.toml: the book's identifier, as a proprietary one
    assert _identifiers(epub) == {"01": "urn:uuid:6f0c2b8e-3d4a-5b1e-9c7f-2a8d4e6b1c90#epub"}
    assert epub.findtext("o:ProductIdentifier/o:IDTypeName", namespaces=NS)


def test_accessibility_is_what_the_epubs_package_declares(tmp_path):
    files = _built(MANUSCRIPTS, tmp_path / "out", formats=("epub", "onix"))
    package = _package(files["epub"])
    details = _features(_products(_valid(files["onix.xml"]))["epub"], "09")
    features = {value for name, value in package if name == "schema:accessibilityFeature"}
    assert features <= set(SEED_FEATURES), features - set(SEED_FEATURES)  # a new one: map it, list it here
    assert ("schema:accessModeSufficient", "textual") in package  # every image has alt text
    expected = {SEED_FEATURES[feature] for feature in features} | {"00", "52"}  # the summary; text suffices
    [claim] = [value for name, value in package if name == "dcterms:conformsTo"]
    version, level = re.fullmatch(r"EPUB Accessibility 1\.1 - WCAG (2\.[012]) Level (AA?A?)", claim).groups()
    expected |= {"04", {"2.0": "80", "2.1": "81", "2.2": "82"}[version],
                 {"A": "84", "AA": "85", "AAA": "86"}[level]}
    certifier = [value for name, value in package if name == "a11y:certifiedBy"]
    if certifier:  # EAA: the claim names who checked it
        expected.add("90")
        assert details["90"] == certifier[0]
    assert set(details) == expected
    assert details["00"] == dict(package)["schema:accessibilitySummary"]
    assert ("schema:accessibilityHazard", "none") in package
    hazards = _features(_products(_valid(files["onix.xml"]))["epub"], "12")
    assert hazards == {"00": ""}  # list 143: no known hazards


def test_an_image_without_alt_text_leaves_out_alternative_text_and_the_claim(tmp_path):
    book = write_book(tmp_path / "book", '[book]\ntitle = "Pictures"\n',
                      {"01-a.md": "---\ntitle: Alpha\n---\n\nA picture:\n\n![](dot.png)\n"})
    Image.new("RGB", (40, 30), "teal").save(book / "dot.png")
    result = build(book, tmp_path / "out", formats=("epub", "onix"))
    assert result.ok, [d.format() for d in result.diagnostics]
    [epub] = [p for p in result.outputs if p.suffix == ".epub"]
    [record] = [p for p in result.outputs if p.name.endswith(".onix.xml")]
    package = _package(epub)
    assert ("schema:accessibilityFeature", "alternativeText") not in package
    details = _features(_products(_valid(record))["epub"], "09")
    assert not {"14", "04", "52"} & set(details), details  # no alt text, no claim, not readable without sight
    assert {"11", "13"} <= set(details)


def test_with_the_pdf_each_format_is_a_product_and_the_extent_is_the_pdfs_pages(tmp_path):
    files = _built(MANUSCRIPTS, tmp_path / "out", formats=("onix", "epub", "pdf"))  # onix first: runs last
    products = _products(_valid(files["onix.xml"]))
    assert list(products) == ["epub", "pdf"]
    reader = PdfReader(files["pdf"])
    labels = list(reader.page_labels)
    assert _extents(products["pdf"]) == {
        "00": max(int(label) for label in labels if label.isdigit()),  # main content: the last Arabic page
        "03": sum(bool(re.fullmatch("[ivxlc]+", label)) for label in labels),  # front matter, Roman
        "06": len(reader.pages)}  # production page count: every page
    assert _extents(products["epub"]) == {"08": len(reader.pages)}  # its page-list's print counterpart
    assert "19" in _features(products["epub"], "09")  # the EPUB marks the PDF's pages
    for kind, other in (("epub", "pdf"), ("pdf", "epub")):
        [related] = products[kind].findall("o:RelatedMaterial/o:RelatedProduct", NS)
        assert related.findtext("o:ProductRelationCode", namespaces=NS) == "06"  # alternative format
        assert _identifiers(related) == _identifiers(products[other])
    assert _features(products["pdf"], "09") == {}  # an untagged PDF claims nothing
    assert products["pdf"].findtext("o:DescriptiveDetail/o:ProductFormDetail", namespaces=NS) == "E107"


def test_a_tagged_pdf_is_pdf_ua_1(tmp_path):
    files = _built(MANUSCRIPTS, tmp_path / "out", formats=("pdf", "onix"), pdf_variant="pdf/ua-1")
    products = _products(_valid(files["onix.xml"]))
    assert list(products) == ["pdf"]
    assert _features(products["pdf"], "09") == {"05": ""}  # list 196: PDF/UA-1, from the PDF's XMP


def test_the_isbn_names_the_epub_product(tmp_path):
    book = write_book(tmp_path / "book", '[book]\ntitle = "Numbered"\nisbn = "978-0-306-40615-7"\n'
                                         'language = "de"\n', {
        "01-a.md": "---\ntitle: Alpha\n---\n\nDer Text.\n",
        "02-b.md": "---\ntitle: Beta\nlanguage: fr\n---\n\nLe texte.\n"})
    files = _built(book, tmp_path / "out", formats=("pdf", "epub", "onix"))
    products = _products(_valid(files["onix.xml"]))
    own = {"01": "urn:isbn:9780306406157#epub"}
    assert _identifiers(products["epub"]) == {**own, "03": "9780306406157", "15": "9780306406157"}
    assert _identifiers(products["pdf"]) == {"01": "urn:isbn:9780306406157#pdf"}  # one ISBN, one format
    [related] = products["pdf"].findall("o:RelatedMaterial/o:RelatedProduct", NS)
    assert _identifiers(related)["15"] == "9780306406157"
    languages = [c.text for c in products["epub"].iterfind(".//o:Language/o:LanguageCode", NS)]
    assert languages == ["ger", "fre"]  # the book's, then an article's own: ISO 639-2/B
    assert products["epub"].find(".//o:Contributor", NS) is None
    assert products["epub"].find(".//o:NoContributor", NS) is not None
    assert products["epub"].find("o:CollateralDetail", NS) is None  # no description given


def test_the_record_is_reproducible_and_dated_by_source_date_epoch(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first = _built(MANUSCRIPTS, tmp_path / "one", formats=("onix",))["onix.xml"].read_bytes()
    second = _built(MANUSCRIPTS, tmp_path / "two", formats=("onix",), cache=False)["onix.xml"].read_bytes()
    assert first == second
    assert b"<SentDateTime>20231114T221320Z</SentDateTime>" in first


def test_per_article_downloads_have_no_record_and_the_manifest_lists_none(tmp_path):
    out = tmp_path / "out"
    result = build(MANUSCRIPTS, out, formats=("epub", "onix"), per_article=True)
    assert result.ok and result.diagnostics == (), [d.format() for d in result.diagnostics]
    assert [p.name for p in out.glob("**/*.onix.xml")] == ["kratom-and-muscle-soreness.onix.xml"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert ".onix.xml" not in json.dumps(manifest)
    assert list((out / "articles").glob("*.epub"))


def test_a_retitled_book_retires_its_old_record(tmp_path):
    book = write_book(tmp_path / "book", '[book]\ntitle = "First"\n', ARTICLE)
    out = tmp_path / "out"
    _built(book, out, formats=("onix",))
    (book / "book.toml").write_text('[book]\ntitle = "Second"\n', encoding="utf-8")
    _built(book, out, formats=("onix",))
    assert sorted(p.name for p in out.glob("*.onix.xml")) == ["second.onix.xml"]
