"""Each store's rules, as a table: what the store requires of an EPUB,
where it says so, and how bad breaking it is.

`source` names the store's own document and when it was read ("as
documented in … (date)"): stores change their rules without notice, and a
number here is only as good as its date. Where a store publishes no rule
but its readers are reported to fail (a Kobo showing a blank page for CSS
flex, Send to Kindle's E999), the source says "reported:" and the rule is
a warning. An error is a rule the store states as a requirement; a warning,
a recommendation or a limit of one delivery path (Send to Kindle).
docs/guide/16-stores-and-accessibility-law.md shows these tables; a test
checks it names every rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import rules
from .rules import MB, Rule

READ = "read 2026"  # when these sources were last read

KPG = "Amazon, Kindle Publishing Guidelines (kdp.amazon.com, 'Kindle Publishing Guidelines')"
KDP_COVER = "KDP Help, 'Cover Image Guidelines' (kdp.amazon.com/help/topic/G6GTK3T3NUHKLEFX)"
APPLE_GUIDE = "Apple Books Asset Guide 5.3 (help.apple.com/itc/booksassetguide, September 2023)"
APPLE_PREPARE = "Apple Books for Authors, 'Prepare your book' (itunespartner.apple.com/books/support/9-prepare-book)"
APPLE_FAQ = "Apple Books FAQ, 'Do I need an ISBN?' (not required, recommended)"
KOBO = "Kobo EPUB Guidelines (github.com/kobolabs/epub-spec)"
GOOGLE = "Google Play Books Partner Center Help, 'Files and uploading overview' (support.google.com/books/partner/answer/3424254)"
OPENTYPE = "OpenType specification, OS/2 table, fsType (learn.microsoft.com/typography/opentype/spec/os2)"
XML = "XML 1.0 §2.5: '--' must not occur within comments"


@dataclass(frozen=True)
class Target:
    """A store (or a law): its name on the command line, its name in prose, its rules."""

    name: str
    title: str
    rules: tuple[Rule, ...]


def _fonts(severity: str, bits: frozenset[int], source: str, what: str) -> Rule:
    kind = "restricted" if rules.RESTRICTED in bits else "subset"
    return Rule(f"font-embedding-{kind}", "embedded fonts' licences allow embedding (OS/2 fsType)"
                if kind == "restricted" else "embedded fonts may be subset and embedded as outlines",
                f"{OPENTYPE}; {source}", "T006", rules.font_embedding, severity, bits,
                "embed another font (its licence in its OS/2 fsType allows embedding), or buy an embedding "
                "licence and a font file that says so", what)


KDP = Target("kdp", "Amazon Kindle (KDP, Send to Kindle)", (
    Rule("file-size", "an EPUB of at most 650 MB", f"KDP Help, 'eBook manuscript' file size limit (650 MB), {READ}",
         "T001", rules.file_size, "error", 650 * MB, "make its images smaller ([epub] max-image-pixels)", "KDP"),
    Rule("send-to-kindle-size", "at most 50 MB to send it to a Kindle by e-mail",
         f"Amazon Help, 'Send to Kindle by e-mail': 50 MB a message, {READ}", "T001", rules.file_size,
         "warning", 50 * MB, "make its images smaller ([epub] max-image-pixels), or send it with the Send to "
         "Kindle app", "Send to Kindle by e-mail"),
    Rule("xml-comments", "no XML comment holds '--'", f"{XML}; reported: Send to Kindle's E999 "
         "(harvard-edge/cs249r_book #1052, #1148)", "T005", rules.xml_comments, "error", None,
         "remove the comment from the manuscript, or its '--'", "Send to Kindle"),
    Rule("css-features", "no CSS flex, grid, custom properties or position: fixed",
         f"{KPG}, supported CSS (none of these among them); reported: E999 with var() (cs249r_book #1148)",
         "T004", rules.css_features, "warning", frozenset(rules.CSS_FEATURES),
         "write the rule without it (block layout, plain values) in styles/epub.css", "Kindle"),
    Rule("navigation", "a logical table of contents (nav toc or NCX)", f"{KPG}, §5.2 'NCX Guidelines'", "T008",
         rules.navigation, "error", None, "build the EPUB with pipeline (it writes both)", "Kindle"),
    Rule("ncx", "an NCX, for older Kindles", f"{KPG}, §5.2 'NCX Guidelines'", "T008", rules.ncx_present,
         "warning", None, "build the EPUB with pipeline (it writes one)", "older Kindles"),
    Rule("toc-depth", "contents nested at most two levels", f"{KPG} 2019.2, §5.2: 'Kindle devices and "
         "applications support two levels of nesting'", "T008", rules.toc_depth, "warning", 2,
         "set [book] toc-depth = 2", "Kindle"),
    Rule("cover-size", "a cover of at least 625×1000 and at most 10,000 pixels a side",
         f"{KDP_COVER}, {READ} (the marketing cover, uploaded apart: this checks the EPUB's own can serve)",
         "T003", rules.cover_size, "warning", (625, 1000, 10_000), "give [book] cover an image of 1600×2560",
         "KDP"),
    Rule("cover-ratio", "a cover about 1.6 times as high as wide (warned outside 1.2–2.0)",
         f"{KDP_COVER}: 'ideal … height/width ratio of 1.6:1', {READ}", "T003", rules.cover_ratio, "warning",
         (1.6, 1.2, 2.0), "give [book] cover an image of 1600×2560", "KDP"),
    _fonts("error", frozenset({rules.RESTRICTED}), f"{KPG}: the publisher secures the fonts' licence rights",
           "Kindle"),
    _fonts("warning", frozenset({rules.NO_SUBSETTING, rules.BITMAP_ONLY}), KPG, "Kindle"),
))

APPLE = Target("apple", "Apple Books", (
    Rule("file-size", "an EPUB of at most 2 GB (ideally under 1 GB)", f"{APPLE_PREPARE}, {READ}", "T001",
         rules.file_size, "error", 2000 * MB, "make its images smaller ([epub] max-image-pixels)", "Apple Books"),
    Rule("image-pixels", "images of at most 5.6 million pixels", f"{APPLE_GUIDE}: 'Images within the EPUB cannot "
         "exceed 5.6 million pixels'", "T002", rules.image_pixels, "error", 5_600_000,
         "keep [epub] max-image-pixels at its default (4000000), or make the image smaller", "Apple Books"),
    Rule("image-pixels-advised", "images of at most 4 million pixels", f"{APPLE_PREPARE}: 'shouldn't be more "
         f"than 4 million pixels', {READ}", "T002", rules.image_pixels, "warning", 4_000_000,
         "keep [epub] max-image-pixels at its default (4000000), or make the image smaller", "Apple Books"),
    Rule("epub-version", "EPUB 3", f"{APPLE_GUIDE}: 'cover EPUB 3 files only'", "T009", rules.epub_version,
         "error", ("3",), "build the EPUB with pipeline (it writes EPUB 3)", "Apple Books"),
    Rule("epubcheck", "passes EPUBCheck", f"{APPLE_PREPARE}: 'must pass the most recent version of EPUBCheck'",
         "T010", rules.epubcheck_clean, "error", None, "fix what EPUBCheck reports; report it if pipeline made it",
         "Apple Books"),
    Rule("isbn", "an ISBN, if given, is valid and the book's", f"{APPLE_FAQ}, {READ}", "T007", rules.isbn_valid,
         "error", None, "correct [book] isbn, and build again", "Apple Books"),
    _fonts("error", frozenset({rules.RESTRICTED}), f"{APPLE_GUIDE}, fonts: embedded fonts must be licensed",
           "Apple Books"),
))

KOBO_TARGET = Target("kobo", "Kobo (Kobo Writing Life, Kobo's EPUB ingestion)", (
    Rule("file-size", "an EPUB of at most 1 GB", f"{KOBO}, 'Limitations and Maximums': '1 GB/ePub'", "T001",
         rules.file_size, "warning", 1000 * MB, "make its images smaller ([epub] max-image-pixels)", "Kobo"),
    Rule("image-bytes", "images of at most 5 MB each", f"{KOBO}, 'Image Formatting': 'advised maximum size for "
         "all image types is 5 MB'", "T002", rules.image_bytes, "warning", 5 * MB,
         "make the image smaller, or lower [epub] max-image-pixels", "Kobo"),
    Rule("document-bytes", "content documents of at most 10 MB each", f"{KOBO}, 'Limitations and Maximums'",
         "T001", rules.document_bytes, "warning", 10 * MB, "split the article", "Kobo"),
    Rule("css-features", "no CSS flex or grid", "reported: a Kobo shows one blank page for CSS flex "
         "(jgm/pandoc #8379, #8435)", "T004", rules.css_features, "warning", frozenset({"flex", "grid"}),
         "write the rule without it (block layout) in styles/epub.css", "Kobo"),
    Rule("cover-format", "a cover that is not a GIF", f"{KOBO}, 'Cover Images': 'GIF files are not supported for "
         "covers'", "T003", rules.cover_format, "error", frozenset({"image/gif"}),
         "give [book] cover a PNG or JPEG", "Kobo"),
    Rule("cover-meta", "the cover named by <meta name=\"cover\"> too", f"{KOBO}, 'Cover Images'", "T003",
         rules.cover_meta, "warning", None, "build the EPUB with pipeline (it writes both)", "Kobo"),
    Rule("toc-depth", "contents nested at most three levels", f"{KOBO}, 'Table of Contents': 'nesting up to "
         "three elements deep'", "T008", rules.toc_depth, "warning", 3, "set [book] toc-depth to 3 or less",
         "Kobo"),
    Rule("epubcheck", "passes EPUBCheck", f"{KOBO}, 'Kobo Recommends Initial ePub Check'", "T010",
         rules.epubcheck_clean, "warning", None, "fix what EPUBCheck reports; report it if pipeline made it",
         "Kobo"),
    Rule("isbn", "an ISBN, if given, is the package's dc:identifier", f"{KOBO}, 'OPF': the dc:identifier holds "
         "the eBook ISBN (Kobo Writing Life books may have none)", "T007", rules.isbn_valid, "error", None,
         "correct [book] isbn, and build again", "Kobo"),
    _fonts("error", frozenset({rules.RESTRICTED}), KOBO, "Kobo"),
))

GOOGLE = Target("google", "Google Play Books", (
    Rule("file-size", "an EPUB of less than 2 GB", f"{GOOGLE}: 'Each file must be less than 2 GB', {READ}",
         "T001", rules.file_size, "error", 2000 * MB, "make its images smaller ([epub] max-image-pixels)",
         "Google Play Books"),
    Rule("cover", "the EPUB contains its front cover", f"{GOOGLE}: 'The .epub file must contain the front cover "
         "image'", "T003", rules.cover_present, "error", None, "build the EPUB with pipeline (it always has a "
         "cover)", "Google Play Books"),
    Rule("cover-size", "a cover of at least 640 and at most 7,200 pixels a side",
         f"{GOOGLE}: 'minimum resolution of 640 pixels … maximum height and width are 7,200 pixels'", "T003",
         rules.cover_size, "error", (640, 640, 7_200), "give [book] cover an image of 1600×2560",
         "Google Play Books"),
    Rule("epubcheck", "validated by EPUBCheck", f"{GOOGLE}: 'should be validated by EpubCheck'", "T010",
         rules.epubcheck_clean, "warning", None, "fix what EPUBCheck reports; report it if pipeline made it",
         "Google Play Books"),
    Rule("isbn", "an ISBN, if given, is valid and the book's", f"{GOOGLE} (a book without one gets a GGKEY)",
         "T007", rules.isbn_valid, "error", None, "correct [book] isbn, and build again", "Google Play Books"),
    _fonts("error", frozenset({rules.RESTRICTED}), GOOGLE, "Google Play Books"),
))

STORES = {target.name: target for target in (KDP, APPLE, KOBO_TARGET, GOOGLE)}
