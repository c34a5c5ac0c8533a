"""ONIX for Books 3.0: the book as stores and libraries take its metadata.

`--format onix` writes `<slug>.onix.xml`, one ONIX message holding a Product
record for each digital product the build makes: the EPUB (ProductForm ED,
ProductFormDetail E101) and the PDF booklet (E107), each naming the other as
an alternative format (RelatedProduct, code 06). Built alone, it describes
the EPUB, which it makes in a temporary folder to read its package: builds
are reproducible, so that is the EPUB `--format epub` writes.

The facts come from the book (title, contributors, language, keywords,
description, publisher, date, identifiers) and from the files themselves,
never guessed: the accessibility of the EPUB is what its package document
declares (schema.org and EPUB Accessibility 1.1 metadata, mapped to ONIX
code lists 196 and 143 below); the extent is the PDF's pages, read back with
pypdf. Prices, territories and suppliers (ProductSupply) are the
publisher's to add: the message says so where they would go.

Reference tags, release 3.0; tests/test_onix.py validates the output
against EDItEUR's XSD as the `onixcheck` package ships it.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from .. import scratch
from ..diagnostics import has_errors
from ..model import RenderedBook
from . import ExportContext, Exported, output

NS = "http://ns.editeur.org/onix/3.0/reference"
RELEASE = "3.0"
OPF_NS = "http://www.idpf.org/2007/opf"
CONTAINER_NS = "urn:oasis:names:tc:opendocument:xmlns:container"
PDFUA_NS = "http://www.aiim.org/pdfua/ns/id/"
NO_SUPPLY = (" ProductSupply (prices, territories, suppliers and availability) is left to the"
             " publisher: add it before sending this record to a store. ")

# Accessibility: what the EPUB's package declares -> ONIX. Meanings of the
# codes: EDItEUR, ONIX code lists 79, 143 and 196 (issue 75). Mappings:
#   [X] W3C, "Schema.org Accessibility Properties Crosswalk" (Accessibility
#       Discoverability Vocabulary CG, final report 2024-09-06): EPUB and
#       schema.org values -> list 196;
#   [K] DAISY Accessible Publishing Knowledge Base, the "ONIX mapping" of each
#       schema.org value and its pages on code lists 143 and 196.
# A value without a code here has none in ONIX; the summary (code 00) still
# carries it in words.
ACCESSIBILITY_DETAIL = "09"  # list 79: E-publication accessibility detail, values from list 196
HAZARD_WARNING = "12"  # list 79: hazard warning, values from list 143
FEATURES = {  # schema:accessibilityFeature -> list 196
    "tableOfContents": "11",  # [X] Table of contents navigation
    "index": "12",  # [X] Index navigation
    "readingOrder": "13",  # [X] Single logical reading order
    "alternativeText": "14",  # [X] Short alternative textual descriptions
    "longDescription": "15",  # [X] Full alternative textual descriptions
    "MathML": "17",  # [X] Accessible math content as MathML
    "ChemML": "18",  # [X] Accessible chemistry content as ChemML
    "printPageNumbers": "19",  # [X] Print-equivalent page numbering
    "structuralNavigation": "29",  # [K] 196-29: Next / Previous structural navigation
    "displayTransformability": "36",  # [K] 196-36: Appearance of all textual content can be modified
    "pageNavigation": "41",  # [K] 196-41: Page list navigation
}
SUFFICIENT = {  # schema:accessModeSufficient (a single mode) -> list 196
    "textual": "52",  # [K] 196-52: All non-decorative content supports reading without sight
    "auditory": "51",  # [K] 196-51: ... supports reading via pre-recorded audio
}
HAZARDS = {  # schema:accessibilityHazard -> list 143
    "none": ("00",),  # [K] none: No known hazards or warnings
    "flashing": ("13",), "noFlashingHazard": ("14",), "unknownFlashingHazard": ("24",),  # [K]
    "sound": ("15",), "noSoundHazard": ("16",), "unknownSoundHazard": ("25",),  # [K]
    "motionSimulation": ("17",), "noMotionSimulationHazard": ("18",),  # [K]
    "unknownMotionSimulationHazard": ("26",),  # [K]
    "unknown": ("24", "25", "26"),  # [K] unknown: the three "risk unknown" codes
}
SUMMARY = "00"  # list 196: Accessibility summary (ProductFormFeatureDescription), [X]
EPUB_A11Y_11 = "04"  # list 196: EPUB Accessibility Specification 1.1, [X] with the WCAG codes below
WCAG_VERSIONS = {"2.0": "80", "2.1": "81", "2.2": "82"}  # [X] list 196: WCAG v2.0 / v2.1 / v2.2
WCAG_LEVELS = {"A": "84", "AA": "85", "AAA": "86"}  # [X] list 196: WCAG level A / AA / AAA
EPUB_A11Y_10 = {"wcag-a": "02", "wcag-aa": "03"}  # [X] the EPUB Accessibility 1.0 conformance URLs
CERTIFICATION = {  # EPUB Accessibility 1.1 a11y: properties -> list 196, [X]
    "a11y:certifiedBy": "90",  # Compliance certification by (name)
    "a11y:certifierCredential": "93",  # Compliance certification by (URL)
    "a11y:certifierReport": "94",  # Compliance web page for detailed accessibility information
}
PDF_UA = {"1": "05", "2": "06"}  # XMP pdfuaid:part -> list 196: PDF/UA-1, PDF/UA-2
_CONFORMANCE = re.compile(r"EPUB Accessibility 1\.1 - WCAG (2\.[012]) Level (AAA|AA|A)")
_CONFORMANCE_10 = re.compile(r"http://www\.idpf\.org/epub/a11y/accessibility-20170105\.html#(wcag-aa?)")

# The products, by format: ProductForm (list 150: ED, digital download) and ProductFormDetail (list 175).
FORMS = {"epub": ("ED", "E101"), "pdf": ("ED", "E107")}
DESCRIBED = ("epub", "pdf")  # the formats a message describes, in this order


@dataclass(frozen=True)
class Pages:
    """The PDF's pages, as its page labels number them."""

    total: int  # every page (list 23: 06, production page count)
    main: int  # the highest Arabic-numbered page (00, main content page count)
    front: int  # pages numbered in Roman numerals (03, front matter page count)
    numbered: int  # pages with a number of either kind (11, content page count: the EPUB's 08)
    ua_part: str  # XMP pdfuaid:part ("1": PDF/UA-1), '' if the PDF claims none


@dataclass(frozen=True)
class Product:
    """One product of the message: its format and what its file says."""

    kind: str  # "epub" or "pdf"
    package: tuple[tuple[str, str], ...] = ()  # the EPUB's <meta property> (name, value): package_metadata
    pages: Pages | None = None  # the PDF's pages; for the EPUB, those of the PDF whose pages it marks


class OnixExporter:
    name = "onix"
    suffix = ".onix.xml"
    provides = ()
    uses = (output("epub"), output("pdf"))  # the files it describes, when the build makes them

    def export(self, rendered: RenderedBook, target: Path, context: ExportContext) -> Exported:
        built = {kind: context.facts[output(kind)] for kind in DESCRIBED if output(kind) in context.facts}
        if any(path is None for path in built.values()):
            return Exported()  # an export it describes failed, and said why: the build fails anyway
        if built:
            products = _products(built)
        else:
            with scratch.folder("onix") as folder:
                made = _made_epub(rendered, Path(folder) / "book.epub", context)
                if isinstance(made, Exported):
                    return made
                products = _products({"epub": made})
        target.write_bytes(message(rendered, products, context))
        return Exported()


def _made_epub(rendered: RenderedBook, path: Path, context: ExportContext) -> Path | Exported:
    """The book's EPUB, made at `path` to be read; its problems if it failed."""
    from .epub import EpubExporter

    exported = EpubExporter().export(rendered, path, context)
    return exported if has_errors(exported.diagnostics) else path


def _products(built: dict[str, Path]) -> list[Product]:
    pages = pdf_pages(built["pdf"]) if "pdf" in built else None
    products = []
    for kind in DESCRIBED:
        if kind == "epub" and kind in built:
            package = package_metadata(built[kind])
            marks_pages = ("source-of", "pagination") in package  # its page-list is the PDF's
            products.append(Product(kind, package, pages if marks_pages else None))
        elif kind in built:
            products.append(Product(kind, pages=pages))
    return products


def package_metadata(epub: Path) -> tuple[tuple[str, str], ...]:
    """The (property, value) pairs of the EPUB package's <meta property>
    elements, in order; a refinement (`refines`) is given as its property
    and value only when it says what a source is for ("source-of")."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    with zipfile.ZipFile(epub) as archive:
        container = etree.fromstring(archive.read("META-INF/container.xml"), parser)
        rootfile = container.find(f".//{{{CONTAINER_NS}}}rootfile").get("full-path")
        opf = etree.fromstring(archive.read(rootfile), parser)
    pairs = []
    for meta in opf.iterfind(f"{{{OPF_NS}}}metadata/{{{OPF_NS}}}meta[@property]"):
        name, value = meta.get("property"), " ".join((meta.text or "").split())
        if meta.get("refines") is None or name == "source-of":
            pairs.append((name, value))
    return tuple(pairs)


def pdf_pages(pdf: Path) -> Pages:
    """The PDF's page count and numbering, from its page labels (pypdf)."""
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    labels = list(reader.page_labels)
    arabic = [int(label) for label in labels if label.isdigit()]
    roman = [label for label in labels if re.fullmatch(r"[ivxlcdm]+", label, re.IGNORECASE)]
    total = len(reader.pages)
    return Pages(total, max(arabic, default=total), len(roman), len(arabic) + len(roman), _ua_part(reader))


def _ua_part(reader) -> str:
    """The PDF/UA part its XMP metadata claims ('' for none)."""
    try:
        xmp = reader.xmp_metadata
    except Exception:  # a damaged XMP packet claims nothing
        return ""
    if xmp is None:
        return ""
    for element in xmp.rdf_root.getElementsByTagNameNS(PDFUA_NS, "part"):
        return "".join(node.data for node in element.childNodes if node.nodeType == node.TEXT_NODE).strip()
    for element in xmp.rdf_root.getElementsByTagName("rdf:Description"):
        part = element.getAttributeNS(PDFUA_NS, "part")
        if part:
            return part.strip()
    return ""


# --- the message ------------------------------------------------------------


def message(rendered: RenderedBook, products: list[Product], context: ExportContext) -> bytes:
    """The ONIX message: a header, then one Product per format."""
    root = etree.Element(f"{{{NS}}}ONIXMessage", {"release": RELEASE}, nsmap={None: NS})
    header = _add(root, "Header")
    sender = _add(header, "Sender")
    config = rendered.book.config
    _add(sender, "SenderName", config.publisher or (config.authors[0] if config.authors else config.title))
    _add(header, "SentDateTime", context.timestamp.strftime("%Y%m%dT%H%M%SZ"))
    isbn_kind = products[0].kind  # the EPUB when described (DESCRIBED's order), else the PDF
    for product in products:
        root.append(_product(rendered, product, [other for other in products if other is not product], isbn_kind))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def record_reference(rendered: RenderedBook, kind: str) -> str:
    """The record's (and the product's own) reference: the book's identifier and the format."""
    return f"{rendered.book.config.identifier}#{kind}"


def _product(rendered: RenderedBook, product: Product, others: list[Product], isbn_kind: str) -> etree._Element:
    element = etree.Element(f"{{{NS}}}Product")
    _add(element, "RecordReference", record_reference(rendered, product.kind))
    _add(element, "NotificationType", "03")  # list 1: notification confirmed on publication
    _identifiers(element, rendered, product.kind, isbn_kind)
    _descriptive(_add(element, "DescriptiveDetail"), rendered, product)
    config = rendered.book.config
    if config.description:
        text = _add(_add(element, "CollateralDetail"), "TextContent")
        _add(text, "TextType", "03")  # list 153: description
        _add(text, "ContentAudience", "00")  # list 154: unrestricted
        _add(text, "Text", config.description)
    if config.publisher or config.date:
        publishing = _add(element, "PublishingDetail")
        if config.publisher:
            publisher = _add(publishing, "Publisher")
            _add(publisher, "PublishingRole", "01")  # list 45: publisher
            _add(publisher, "PublisherName", config.publisher)
        if config.date:
            date = _add(publishing, "PublishingDate")
            _add(date, "PublishingDateRole", "01")  # list 163: publication date
            _add(date, "Date", config.date.replace("-", ""))  # YYYYMMDD, the default dateformat
    if others:
        related = _add(element, "RelatedMaterial")
        for other in others:
            relation = _add(related, "RelatedProduct")
            _add(relation, "ProductRelationCode", "06")  # list 51: alternative format
            _identifiers(relation, rendered, other.kind, isbn_kind)
    element.append(etree.Comment(NO_SUPPLY))
    return element


def _identifiers(parent: etree._Element, rendered: RenderedBook, kind: str, isbn_kind: str) -> None:
    """The product's identifiers: its reference in the book's own scheme
    (list 5: 01, proprietary, named by IDTypeName); and [book] isbn, as
    GTIN-13 (03) and ISBN-13 (15), for the product the ISBN names: the
    EPUB, whose package declares it, or the PDF when no EPUB is described."""
    own = _add(parent, "ProductIdentifier")
    _add(own, "ProductIDType", "01")
    _add(own, "IDTypeName", "Book identifier and format")
    _add(own, "IDValue", record_reference(rendered, kind))
    isbn = rendered.book.config.isbn.replace("-", "")
    if isbn and kind == isbn_kind:
        for code in ("03", "15"):
            identifier = _add(parent, "ProductIdentifier")
            _add(identifier, "ProductIDType", code)
            _add(identifier, "IDValue", isbn)


def _descriptive(detail: etree._Element, rendered: RenderedBook, product: Product) -> None:
    config = rendered.book.config
    form, form_detail = FORMS[product.kind]
    _add(detail, "ProductComposition", "00")  # list 2: single-component retail product
    _add(detail, "ProductForm", form)
    _add(detail, "ProductFormDetail", form_detail)
    for kind, value, description in features(product):
        feature = _add(detail, "ProductFormFeature")
        _add(feature, "ProductFormFeatureType", kind)
        _add(feature, "ProductFormFeatureValue", value)
        if description:
            _add(feature, "ProductFormFeatureDescription", description)
    _add(detail, "PrimaryContentType", "10")  # list 81: text (eye-readable): with ED and E1xx, an e-book
    titles = _add(detail, "TitleDetail")
    _add(titles, "TitleType", "01")  # list 15: distinctive title
    title = _add(titles, "TitleElement")
    _add(title, "TitleElementLevel", "01")  # list 149: the product
    _add(title, "TitleText", config.title)
    if config.subtitle:
        _add(title, "Subtitle", config.subtitle)
    for number, author in enumerate(config.authors, start=1):
        contributor = _add(detail, "Contributor")
        _add(contributor, "SequenceNumber", str(number))
        _add(contributor, "ContributorRole", "A01")  # list 17: by (author)
        _add(contributor, "PersonName", author)
    if not config.authors:
        _add(detail, "NoContributor")
    for code in languages(rendered):
        language = _add(detail, "Language")
        _add(language, "LanguageRole", "01")  # list 22: language of text
        _add(language, "LanguageCode", code)
    for kind, value in extents(product):
        extent = _add(detail, "Extent")
        _add(extent, "ExtentType", kind)
        _add(extent, "ExtentValue", str(value))
        _add(extent, "ExtentUnit", "03")  # list 24: pages
    words = _subjects(rendered)
    if words:
        subject = _add(detail, "Subject")
        _add(subject, "SubjectSchemeIdentifier", "20")  # list 27: keywords
        _add(subject, "SubjectHeadingText", "; ".join(words))  # one instance, ';'-separated (list 27's note)


def features(product: Product) -> list[tuple[str, str, str]]:
    """The product's ProductFormFeatures (type, value, description): the
    accessibility its file declares, in code order, then its hazards."""
    details: dict[str, str] = {}
    hazards: list[str] = []
    if product.pages is not None and product.kind == "pdf" and product.pages.ua_part in PDF_UA:
        details[PDF_UA[product.pages.ua_part]] = ""
    for name, value in product.package:
        if name == "schema:accessibilityFeature" and value in FEATURES:
            details.setdefault(FEATURES[value], "")
        elif name == "schema:accessModeSufficient" and value in SUFFICIENT:
            details.setdefault(SUFFICIENT[value], "")
        elif name == "schema:accessibilityHazard":
            hazards += [code for code in HAZARDS.get(value, ()) if code not in hazards]
        elif name == "schema:accessibilitySummary" and value:
            details.setdefault(SUMMARY, value)
        elif name == "dcterms:conformsTo":
            for code in conformance(value):
                details.setdefault(code, "")
        elif name in CERTIFICATION and value:
            details.setdefault(CERTIFICATION[name], value)
    ordered = [(ACCESSIBILITY_DETAIL, code, details[code]) for code in sorted(details)]
    return ordered + [(HAZARD_WARNING, code, "") for code in sorted(hazards)]


def conformance(claim: str) -> tuple[str, ...]:
    """The list 196 codes of a dcterms:conformsTo claim ("EPUB Accessibility
    1.1 - WCAG 2.2 Level AA": 04, 82, 85); none for a claim ONIX cannot say."""
    match = _CONFORMANCE.fullmatch(claim.strip())
    if match:
        return EPUB_A11Y_11, WCAG_VERSIONS[match[1]], WCAG_LEVELS[match[2]]
    match = _CONFORMANCE_10.fullmatch(claim.strip())
    return (EPUB_A11Y_10[match[1]],) if match else ()


def extents(product: Product) -> list[tuple[str, int]]:
    """(list 23 code, pages): the PDF's main content (00), front matter (03)
    and every page (06); for an EPUB marking the PDF's pages, the pages of
    that counterpart (08). None without a PDF."""
    pages = product.pages
    if pages is None:
        return []
    if product.kind == "epub":
        return [("08", pages.numbered or pages.total)]
    return [("00", pages.main)] + ([("03", pages.front)] if pages.front else []) + [("06", pages.total)]


def languages(rendered: RenderedBook) -> list[str]:
    """ISO 639-2/B codes (ONIX list 74) of the book's language, then of its
    articles' own: "en-GB" -> "eng", "de" -> "ger", "zh-Hant" -> "chi"."""
    import langcodes

    codes = []
    for tag in [rendered.book.config.language] + [item.article.language for item in rendered.articles]:
        if not tag:
            continue
        try:
            code = langcodes.Language.get(tag).to_alpha3(variant="B")
        except (LookupError, ValueError):
            code = "und"  # list 74: undetermined
        if code not in codes:
            codes.append(code)
    return codes or ["und"]


def _subjects(rendered: RenderedBook) -> tuple[str, ...]:
    """The EPUB's subjects: [book] keywords, then the articles' tags."""
    from .epub import subjects

    return subjects(rendered)


def _add(parent: etree._Element, tag: str, text: str = "") -> etree._Element:
    """A new ONIX element `tag` at the end of `parent`, holding `text` if given."""
    element = etree.SubElement(parent, f"{{{NS}}}{tag}")
    if text:
        element.text = text
    return element
