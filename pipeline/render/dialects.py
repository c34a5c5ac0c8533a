"""Site syntax with a meaning is given that meaning, before Markdown is parsed.

Articles copied out of a website hold their generator's syntax: Hugo
shortcodes (`{{< figure >}}`, `{{< relref >}}`, `{{% notice %}}`), Liquid
(`{% include %}`, `{% post_url %}`, `{{ site.baseurl }}`, `{% raw %}`),
MkDocs snippets (`--8<--`) and content tabs (`=== "Tab"`), mdBook's
`{{#include}}`, MDX (`import` lines, `{/* comments */}`, `<Tabs>` and other
JSX components), `:emoji_codes:` and summary markers (`<!--more-->`).
Printed as written they are noise; each is turned here into the plain
CommonMark or HTML that says what the site would have shown, as text the
rest of the renderer already reads (a figure is an image paragraph, a link
to another post is a relative link to its manuscript, a notice is a `:::`
container, a highlight is a fence).

Line numbers are kept: a construct is replaced by text holding as many
newlines as it did, so the renderer's diagnostics still point at the
manuscript's lines (only included files add lines: they sit where their
directive was). Code is never touched: a shortcode in a code span or block
is an example of it (docs about Hugo show them), except mdBook's
directives, which mdBook expands in code too. What has no meaning outside
the site (a shortcode whose template was not copied, a page variable) is
left out with an R010 warning whose message is the same for every use of a
name, so the report folds them into one line per name.

Every file read here (site configs, includes, snippets) goes through the
read gate, inside the site's root (`Book.site_root`, else the book folder).
"""

from __future__ import annotations

import bisect
import json
import posixpath
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote

import yaml

from ..diagnostics import Diagnostic, error, warning
from ..load.frontmatter import nested_past
from ..load.sites import MAX_NESTING
from ..model import Article, Book
from ..resources import HardLinked, NotFound, ResourceRefused, read_bytes
from ..text.markdown import parse

MAX_INCLUDE_DEPTH = 4  # an include inside an include inside…: a loop ends here
MAX_INCLUDE_BYTES = 1 << 20  # a file included or a config read: larger ones are refused
MANUSCRIPT_SUFFIXES = (".md", ".markdown", ".mdx", ".html")


@dataclass
class Site:
    """What the pass knows of the site an article comes from."""

    flavour: str = "plain"
    root: Path = Path(".")  # the site's root: every read stays inside it
    config: dict = field(default_factory=dict)  # the site's config (Jekyll's `site.*`, Hugo's top level)
    manuscripts: tuple[Path, ...] = ()  # the book's manuscripts (resolved), which links may name
    snippet_bases: tuple[Path, ...] = ()  # pymdownx.snippets' base_path folders
    auto_append: tuple[str, ...] = ()  # snippet files appended to every page

    @property
    def params(self) -> dict:
        """Hugo's `params` (what `{{< param "x" >}}` reads)."""
        params = self.config.get("params")
        return params if isinstance(params, dict) else {}


def site_of(book: Book) -> Site:
    """The site of a book: its flavour, root, config and manuscripts."""
    root = (book.site_root or book.root).resolve()
    config = _site_config(root)
    mkdocs = _read_config(root, "mkdocs.yml") or _read_config(root, "mkdocs.yaml")
    bases, append = _snippet_settings(mkdocs, root)
    return Site(flavour=book.flavour, root=root, config=config,
                manuscripts=tuple(a.source_path.resolve() for a in book.articles),
                snippet_bases=bases, auto_append=append)


def rewrite(article: Article, site: Site) -> tuple[Article, list[Diagnostic]]:
    """The article with its site syntax given its meaning (module doc), and
    what could not be: R010 for what is left out or printed as written."""
    pass_ = _Pass(article, site, article.source_path, article.body_line)
    body = pass_.run(article.body)
    if site.auto_append:
        body = pass_.append_snippets(body)
    if article.summary:
        return replace(article, body=body), pass_.diagnostics
    summary = _summary_before_marker(body)
    return replace(article, body=body, summary=summary, summary_in_body=bool(summary)), pass_.diagnostics


# ---------- the site's config ----------


_CONFIGS = ("hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json", "config.toml", "config.yaml", "config.yml",
            "config.json", "_config.yml", "_config.yaml")


def _site_config(root: Path) -> dict:
    """The first config file of the generators' names at the site root, read as a mapping."""
    for name in _CONFIGS:
        found = _read_config(root, name)
        if found:
            return found
    return {}


def _read_config(root: Path, name: str) -> dict:
    """A config file's mapping; {} if missing, refused, too large or not valid."""
    path = root / name
    if not path.is_file():
        return {}
    try:
        data = read_bytes(path, (root,))
        if len(data) > MAX_INCLUDE_BYTES:
            return {}
        text = data.decode("utf-8-sig")
        if name.endswith(".toml"):
            value = tomllib.loads(text)
        elif name.endswith(".json"):
            value = json.loads(text)
        else:
            value = _load_yaml(text)
    except (ResourceRefused, OSError, UnicodeDecodeError, ValueError, yaml.YAMLError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


class _ConfigLoader(yaml.SafeLoader):
    """YAML of a site's config: MkDocs' `!ENV` and `!!python/name:` tags read as nothing."""


_ConfigLoader.add_multi_constructor("!", lambda loader, suffix, node: None)
_ConfigLoader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)


def _load_yaml(text: str):
    """A config's YAML, refusing aliases (one alias can expand to gigabytes)
    and nesting deeper than the loader reads (PyYAML takes minutes to give up)."""
    if nested_past(text, MAX_NESTING) is not None:
        raise ValueError("a site's config nested too deep")
    scanner = yaml.CSafeLoader if yaml.__with_libyaml__ else _ConfigLoader  # (tokens only: libyaml's are the same)
    if any(isinstance(token, yaml.AliasToken) for token in yaml.scan(text, Loader=scanner)):
        raise ValueError("YAML aliases are not read in a site's config")
    return yaml.load(text, Loader=_ConfigLoader)  # noqa: S506 (a SafeLoader)


def _snippet_settings(mkdocs: dict, root: Path) -> tuple[tuple[Path, ...], tuple[str, ...]]:
    """pymdownx.snippets' base_path folders and auto_append files, from mkdocs.yml."""
    options: dict = {}
    for extension in mkdocs.get("markdown_extensions") or []:
        if isinstance(extension, dict) and isinstance(extension.get("pymdownx.snippets"), dict):
            options = extension["pymdownx.snippets"]
    bases = options.get("base_path", ["."])
    bases = [bases] if isinstance(bases, str) else [b for b in bases if isinstance(b, str)] if isinstance(bases, list) else []
    append = options.get("auto_append") or []
    append = [name for name in append if isinstance(name, str)] if isinstance(append, list) else []
    return tuple(root / base for base in bases), tuple(append)


# ---------- where code is ----------


_FENCE = re.compile(r"^[ \t>]*(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)")


def _fence_lines(lines: list[str]) -> set[int]:
    """0-based lines inside fences (fence lines included), by the fences alone:
    a fence right under a JSX tag or a `{{< highlight >}}` is code to the
    site's generator although CommonMark reads it as part of an HTML block."""
    inside, opened = set(), ""
    for index, line in enumerate(lines):
        match = _FENCE.match(line)
        if opened:
            inside.add(index)
            if match and match.group(1)[0] == opened[0] and len(match.group(1)) >= len(opened) \
                    and not line[match.end():].strip():
                opened = ""
        elif match and not (match.group(1)[0] == "`" and "`" in line[match.end():]):
            opened = match.group(1)
            inside.add(index)
    return inside


def _code_ranges(text: str) -> list[tuple[int, int]]:
    """Character ranges of `text` that are code: fenced and indented blocks
    (markdown-it's and the fences' own), and code spans on the other lines."""
    lines = text.split("\n")
    code = _fence_lines(lines)
    try:
        for token in parse(text):
            if token.type in ("fence", "code_block") and token.map:
                code.update(range(*token.map))
    except RecursionError:
        pass
    ranges, offset = [], 0
    for index, line in enumerate(lines):
        if index in code:
            ranges.append((offset, offset + len(line) + 1))
        elif "`" in line:
            ranges += [(offset + m.start(), offset + m.end()) for m in _CODE_SPAN.finditer(line)]
        offset += len(line) + 1
    return _merged(ranges)


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _in_code(ranges: list[tuple[int, int]], start: int, end: int) -> bool:
    """Does [start, end) touch a code range?"""
    index = bisect.bisect_right(ranges, (start, float("inf"))) - 1
    for candidate in ranges[max(index, 0): index + 2]:
        if candidate[0] < end and start < candidate[1]:
            return True
    return False


def _in_code_span(text: str, start: int, end: int) -> bool:
    """Is text[start:end] between backticks of one line (a code span)?"""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    before, after = text[line_start:start], text[end:line_end if line_end >= 0 else len(text)]
    return before.count("`") % 2 == 1 and "`" in after


def _same_lines(replacement: str, written: str) -> str:
    """`replacement` followed by the newlines `written` held more (line numbers kept)."""
    return replacement + "\n" * max(0, written.count("\n") - replacement.count("\n"))


# ---------- the constructs ----------


_RAW = re.compile(r"\{%-?\s*raw\s*-?%\}(.*?)\{%-?\s*endraw\s*-?%\}", re.S)
_COMMENT = re.compile(r"\{%-?\s*comment\s*-?%\}.*?\{%-?\s*endcomment\s*-?%\}", re.S)
_HIGHLIGHT_OPEN = re.compile(r"^(\s*)(?:\{\{[<%]\s*highlight\s+([\w+#.-]+)?[^}]*?[>%]\}\}|"
                             r"\{%-?\s*highlight\s+([\w+#.-]+)[^%]*%\})\s*$")
_HIGHLIGHT_CLOSE = re.compile(r"^(\s*)(?:\{\{[<%]\s*/\s*highlight\s*[>%]\}\}|\{%-?\s*endhighlight\s*-?%\})\s*$")
_TAB = re.compile(r"^(\s*)===(\+|!)?\s+\"(.*)\"\s*$")
_MDBOOK = re.compile(r"\{\{\s*#(include|rustdoc_include)\s+([^}\s]+)\s*\}\}")
_MDX_HEADING_ID = re.compile(r"^(#{1,6}[ \t].*?)[ \t]*\{/\*[ \t]*([\w-]+)[ \t]*\*/\}[ \t]*$", re.M)
_IMPORT = re.compile(r"^import\s+(?:[\w*{}\s,$]+?\s+from\s+)?['\"][^'\"\n]+['\"];?\s*$")
_IMPORT_START = re.compile(r"^import\s+(?:type\s+)?[\w*{$]")
_EXPORT = re.compile(r"^export\s+(?:default|const|let|var|function|class|async)\b")
_ABBREVIATION = re.compile(r"^\*\[[^\]\n]+\]:.*$", re.M)

_CONSTRUCT = re.compile(
    # Every construct begins with `{`, `<` or `:`, or is a snippet line: said first, so that the scan
    # passes over other characters without trying each alternative there (ten times faster on prose).
    r"(?=[{<:]|^[ \t]*-)(?:"
    r"(?P<hugo>\{\{(?P<hd>[<%])-?\s*(?P<hclose>/)?\s*(?P<hname>[\w./-]+)(?P<hargs>.*?)-?\s*[>%]?\}\})"
    r"|(?P<ltag>\{%-?\s*(?P<lname>\w+)(?P<largs>.*?)-?%\})"
    r"|(?P<lout>(?<!=)\{\{-?(?![<%#])(?P<lexpr>[^{}]*?)-?\}\})"
    r"|(?P<snippet>^[ \t]*-{1,}8<-{1,}[ \t]+\"(?P<sfile>[^\"\n]+)\"[ \t]*$)"
    r"|(?P<mdxcomment>\{/\*(?P<ctext>.*?)\*/\})"
    r"|(?P<jsxclose></(?P<jcname>[A-Z][\w.]*)\s*>)"
    r"|(?P<jsx>(?<![\w<])<(?P<jname>[A-Z][\w.]*)(?P<jattrs>(?:\s+[^\s<>{}\"'=/]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'"
    r"|\{(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*\}))?|\s+\{(?:[^{}]|\{[^{}]*\})*\})*)\s*(?P<jself>/?)>)"
    r"|(?P<icon>:(?:material|octicons|fontawesome|simple)-[a-z0-9-]+:(?:\{[^{}\n]*\})? ?)"  # with its space: a list item's text keeps its column
    r"|(?P<emoji>:(?P<ecode>[a-z0-9_+-]*[a-z][a-z0-9_+-]*|[+-]1):))",
    re.S | re.M)

_ARG = re.compile(r"""([\w-]+)\s*=\s*("(?:[^"\\]|\\.)*"|'[^']*'|`[^`]*`|[^\s"']+)|("(?:[^"\\]|\\.)*"|'[^']*'|`[^`]*`|[^\s"'=]+)""")

# HTML's element names: `<B>` or `<P>` written in capitals is HTML, not a JSX component.
_HTML_TAGS = frozenset("a abbr address article aside b bdi bdo blockquote br caption cite code col colgroup dd del "
                       "details dfn div dl dt em figcaption figure footer h1 h2 h3 h4 h5 h6 header hr i img ins kbd "
                       "li main mark nav ol p picture pre q s samp section small source span strong sub summary sup "
                       "table tbody td tfoot th thead time tr u ul var video audio".split())
# A Hugo alert's colour, Docsy's and others' callout names -> the callout kinds `:::` knows.
_KINDS = {"primary": "note", "secondary": "note", "info": "info", "note": "note", "tip": "tip", "success": "tip",
          "warning": "warning", "danger": "danger", "error": "danger", "caution": "caution",
          "important": "important"}
_EMBEDS = {"youtube": "YouTube video", "vimeo": "Vimeo video", "tweet": "Post", "x": "Post", "gist": "Gist"}
_LIQUID_ROOTS = ("site", "page", "include", "layout", "paginator", "jekyll", "content", "post")


def _args(text: str) -> tuple[list[str], dict[str, str]]:
    """A shortcode's or tag's arguments: positional ones and name=value ones, unquoted."""
    positional, named = [], {}
    for match in _ARG.finditer(text.strip().rstrip("/")):
        if match.group(1):
            named[match.group(1)] = _unquote(match.group(2))
        else:
            positional.append(_unquote(match.group(3)))
    return positional, named


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'`":
        value = value[1:-1]
        return value.replace('\\"', '"') if value and value[0] != "`" else value
    return value


class _Pass:
    """One text's rewrite (an article's body, or a file it includes)."""

    def __init__(self, article: Article, site: Site, path: Path, first_line: int, depth: int = 0,
                 diagnostics: list[Diagnostic] | None = None):
        self.article, self.site, self.path, self.first_line, self.depth = article, site, path, first_line, depth
        self.diagnostics = diagnostics if diagnostics is not None else []
        self.raw: list[str] = []
        self.text = ""

    def run(self, text: str) -> str:
        if self.site.flavour == "mdbook":
            text = self._mdbook_includes(text)
        text = self._blocks(text)
        ranges = _code_ranges(text)
        self.text = text
        text = _CONSTRUCT.sub(lambda m: m.group() if _in_code(ranges, m.start(), m.end()) else self._construct(m),
                              text)
        text = self._leftovers(text)
        for index, raw in enumerate(self.raw):  # `{% raw %}`: what it holds, as written
            marker = f"\ue000{index}\ue001"
            text = text.replace(marker + "\n" * raw.count("\n"), raw, 1)
        return text

    # -- where a construct is

    def _place(self, offset: int, text: str | None = None) -> tuple[int, int]:
        text = self.text if text is None else text
        line = text.count("\n", 0, offset)
        return self.first_line + line, offset - (text.rfind("\n", 0, offset) + 1) + 1

    def _warn(self, what: str, offset: int, printed: bool = False, text: str | None = None,
              outcome: str = "it has no meaning outside the site and is left out") -> None:
        """R010 at the construct; one message per name, so the report folds its uses."""
        line, column = self._place(offset, text)
        self.diagnostics.append(warning(
            "R010", f"{what} is not expanded; " + ("it is printed as it is" if printed else outcome),
            hint="replace it by what it stands for (paste the included text), or delete it",
            path=self.path, line=line, column=column))

    # -- block constructs, line by line, before code is known

    def _blocks(self, text: str) -> str:
        """`{% raw %}`, `{% comment %}`, highlights as fences, MkDocs tabs,
        MDX import/export lines and heading ids: what changes where code is."""
        ranges = _code_ranges(text)
        text = _RAW.sub(lambda m: m.group() if _in_code(ranges, m.start(), m.start() + 2) else self._keep_raw(m), text)
        ranges = _code_ranges(text)
        text = _COMMENT.sub(lambda m: m.group() if _in_code(ranges, m.start(), m.start() + 2)
                            else "\n" * m.group().count("\n"), text)
        lines = text.split("\n")
        fenced = _fence_lines(lines)
        lines = self._highlights(lines, fenced)
        lines = self._tabs(lines)
        lines = self._scripts(lines)
        text = "\n".join(lines)
        ranges = _code_ranges(text)
        return _MDX_HEADING_ID.sub(lambda m: m.group() if _in_code(ranges, m.start(), m.start() + 1)
                                   else f"{m.group(1)} {{#{m.group(2)}}}", text)

    def _keep_raw(self, match: re.Match[str]) -> str:
        """Liquid's raw: set aside, put back as written once the rest is done."""
        self.raw.append(match.group(1))
        return f"\ue000{len(self.raw) - 1}\ue001" + "\n" * match.group().count("\n")

    def _highlights(self, lines: list[str], fenced: set[int]) -> list[str]:
        """Hugo's `{{< highlight go >}}` and Jekyll's `{% highlight go %}` on their own lines: fences."""
        opened = False
        for index, line in enumerate(lines):
            if index in fenced and not opened:
                continue
            match = _HIGHLIGHT_OPEN.match(line) if not opened else None
            if match:
                lines[index], opened = f"{match.group(1)}```{match.group(2) or match.group(3) or ''}", True
                continue
            match = _HIGHLIGHT_CLOSE.match(line) if opened else None
            if match:
                lines[index], opened = f"{match.group(1)}```", False
        return lines

    def _tabs(self, lines: list[str]) -> list[str]:
        """MkDocs' `=== "Tab"`: the label in bold, the tab's content (indented
        under it) taken out by one level; nested tabs come out in turn."""
        index = 0
        fenced = _fence_lines(lines)  # again only after a tab moved lines (once per line was quadratic)
        while index < len(lines):
            match = _TAB.match(lines[index]) if index not in fenced else None
            if not match:
                index += 1
                continue
            indent = len(match.group(1).expandtabs(4))
            lines[index] = f"{match.group(1)}**{match.group(3)}**<br />"
            end = index + 1
            while end < len(lines) and (not lines[end].strip()
                                        or len(lines[end].expandtabs(4)) - len(lines[end].expandtabs(4).lstrip())
                                        >= indent + 4):
                end += 1
            while end > index + 1 and not lines[end - 1].strip():
                end -= 1
            for inner in range(index + 1, end):
                expanded = lines[inner].expandtabs(4)
                lines[inner] = expanded[:indent] + expanded[indent + 4:] if expanded.strip() else ""
            fenced = _fence_lines(lines)
            index += 1
        return lines

    def _scripts(self, lines: list[str]) -> list[str]:
        """MDX `import … from '…'` and `export const …` lines: the site's code, dropped."""
        fenced = _fence_lines(lines)
        index = 0
        while index < len(lines):
            line = lines[index]
            end = None
            if index in fenced:
                pass
            elif _IMPORT.match(line):
                end = index + 1
            elif _IMPORT_START.match(line) and "from" not in line:
                end = next((i + 1 for i in range(index + 1, min(index + 40, len(lines)))
                            if re.search(r"from\s+['\"][^'\"]+['\"];?\s*$", lines[i])), None)
            elif _EXPORT.match(line):
                end = _balanced_end(lines, index)
            if end is not None:
                lines[index:end] = [""] * (end - index)
                index = end
            else:
                index += 1
        return lines

    # -- mdBook

    def _mdbook_includes(self, text: str) -> str:
        """mdBook's `{{#include file.rs:anchor}}` (in code too, as mdBook does)."""
        def include(match: re.Match[str]) -> str:
            path, _, selector = match.group(2).partition(":")
            found = self._read(self.path.parent / path, match.start(), text)
            return match.group() if found is None else _select(found, selector)
        return _MDBOOK.sub(include, text)

    # -- inline constructs

    def _construct(self, match: re.Match[str]) -> str:
        kind = match.lastgroup  # the outermost group that matched: one construct's
        written = match.group()
        if kind == "hugo":
            made = self._shortcode(match)
        elif kind == "ltag":
            made = self._liquid_tag(match)
        elif kind == "lout":
            made = self._liquid_output(match)
        elif kind == "snippet":
            made = self._include(self._snippet_path(match.group("sfile")), match.start("sfile"), match.group("sfile"))
        elif kind == "mdxcomment":
            made = "<!--truncate-->" if match.group("ctext").strip() == "truncate" else ""
        elif kind == "icon":
            made = ""  # MkDocs Material's icons: a picture of the theme, no character
        elif kind in ("jsx", "jsxclose"):
            made = self._component(match)
        else:
            import emoji

            made = emoji.emojize(written, language="alias")
        return written if made is None else _same_lines(made, written)

    def _shortcode(self, match: re.Match[str]) -> str | None:
        name, closing = match.group("hname").lower(), bool(match.group("hclose"))
        positional, named = _args(match.group("hargs"))
        if name in ("notice", "alert", "callout", "admonition", "hint"):
            if closing:
                return ":::"
            kind = _KINDS.get((named.get("color") or named.get("type") or (positional[0] if positional else "")
                               ).lower(), "note")
            title = named.get("title") or (positional[1] if len(positional) > 1 else "")
            return f":::{kind} {title}".rstrip()
        if closing:
            return ""  # its opening tag was reported
        if name == "figure":
            return _figure(named)
        if name in ("ref", "relref"):
            target = named.get("path") or (positional[0] if positional else "")
            return self._article_href(target) if target else None
        if name == "param":
            key = named.get("name") or (positional[0] if positional else "")
            value = _lookup(self.site.params, key) or _lookup(self.site.config, key)
            if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                return str(value)
            return self._unknown_shortcode(match, f"param {key}")
        if name in _EMBEDS:
            address = _embed_address(name, positional, named)
            if address:
                return _card(_EMBEDS[name], address, self._alone(match))
        if name in ("readfile", "include"):
            target = named.get("file") or (positional[0] if positional else "")
            if target:
                return self._include(self.site.root / target.lstrip("/"), match.start(), target)
        return self._unknown_shortcode(match, name)

    def _unknown_shortcode(self, match: re.Match[str], name: str) -> str:
        opening = match.group("hd")
        self._warn(f"the shortcode '{{{{{opening} {name} … {'>' if opening == '<' else '%'}}}}}'", match.start(),
                   outcome="its tags are left out, what it holds is kept")
        return ""

    def _liquid_tag(self, match: re.Match[str]) -> str | None:
        name, args = match.group("lname"), match.group("largs").strip()
        positional, _ = _args(args)
        target = positional[0] if positional else ""
        if name in ("post_url", "link") and target:
            return self._article_href(target)
        if name in ("include", "include_relative", "include_cached") and target:
            base = self.path.parent if name == "include_relative" else self.site.root / "_includes"
            return self._include(base / target, match.start(), target)
        if name in ("raw", "endraw", "highlight", "endhighlight"):
            return ""
        self._warn(f"the template tag '{{% {name} … %}}'", match.start())
        return ""

    def _liquid_output(self, match: re.Match[str]) -> str | None:
        expression, *filters = [part.strip() for part in match.group("lexpr").split("|")]
        root = expression.split(".")[0]
        names = [f.split(":")[0].strip() for f in filters]
        if root not in _LIQUID_ROOTS and not filters and self.site.flavour not in ("jekyll", "hugo"):
            self._warn(f"the template variable '{{{{ {expression} }}}}'", match.start(), printed=True)
            return None
        value: object = None
        if expression in ("site.baseurl", "site.base_url"):
            value = ""  # site-root paths resolve against the site's static folders
        elif len(expression) >= 2 and expression[0] == expression[-1] and expression[0] in "\"'":
            value = expression[1:-1]
        elif root == "site":
            value = _lookup(self.site.config, expression[len("site."):])
        if isinstance(value, str) and all(n in ("relative_url", "absolute_url") for n in names):
            if names and value and not re.match(r"[a-z][a-z0-9+.-]*:", value):
                value = "/" + value.lstrip("/")
            return value
        self._warn(f"the template variable '{{{{ {expression} }}}}'", match.start())
        return ""

    def _component(self, match: re.Match[str]) -> str | None:
        name = match.group("jname") or match.group("jcname")
        if name.lower() in _HTML_TAGS and (name.isupper() or name.islower()):
            return None
        closing = match.group("jcname") is not None
        _, attrs = _args(match.group("jattrs") or "")
        if name in ("Tabs", "TabItem") or name.endswith(".Tabs") or name.endswith(".TabItem"):
            if name.endswith("TabItem") and not closing:
                return f"**{attrs.get('label') or attrs.get('value') or ''}**<br />" if (
                    attrs.get("label") or attrs.get("value")) else ""
            return ""
        if name == "Admonition":
            if closing:
                return ":::"
            return f":::{_KINDS.get(attrs.get('type', '').lower(), 'note')} {attrs.get('title', '')}".rstrip()
        if name in ("YouTubeIframe", "YouTube", "Tweet", "Gist") and attrs.get("src", "").startswith("https://"):
            return _card("Video" if "You" in name else name, attrs["src"], self._alone(match))
        if not closing:
            self._warn(f"the component '<{name}>'", match.start(),
                       outcome="its tags are left out, what it holds is kept")
        return ""

    def _alone(self, match: re.Match[str]) -> bool:
        """Is the construct the only thing on its line(s)?"""
        text = match.string
        before = text[text.rfind("\n", 0, match.start()) + 1:match.start()]
        after_end = text.find("\n", match.end())
        after = text[match.end():after_end if after_end >= 0 else len(text)]
        return not before.strip() and not after.strip()

    # -- links between articles

    def _article_href(self, target: str) -> str:
        """A relative link to the book's manuscript that `target` names
        (`/posts/2018/x`, `x.md#part`, Jekyll's `2013-05-06-slug`,
        `_posts/x.markdown`), so links between articles resolve as any
        other; if none does, the target as written (the link is then R008)."""
        path, _, fragment = target.partition("#")
        found = self._manuscript(path)
        if found is None:
            return quote(target, safe="/#:")
        relative = posixpath.relpath(found.as_posix(), self.article.source_path.resolve().parent.as_posix())
        return quote(relative, safe="/") + (f"#{fragment}" if fragment else "")

    def _manuscript(self, path: str) -> Path | None:
        wanted = path.strip().strip("/")
        for suffix in MANUSCRIPT_SUFFIXES:
            if wanted.endswith(suffix):
                wanted = wanted[: -len(suffix)]
        if not wanted and not path.startswith("/"):
            return None
        here = self.article.source_path.resolve().parent
        keyed = {}
        for manuscript in self.site.manuscripts:
            key = manuscript.with_suffix("")
            if key.name in ("index", "_index", "README"):
                key = key.parent
            keyed[manuscript] = key
        if not path.startswith("/"):
            for manuscript, key in keyed.items():
                if key == (here / wanted).resolve():
                    return manuscript
        ends = [m for m, key in keyed.items() if key.as_posix() == wanted or key.as_posix().endswith("/" + wanted)]
        return ends[0] if len(ends) == 1 else min(ends, key=lambda m: len(m.parts)) if ends else None

    # -- includes

    def _snippet_path(self, name: str) -> Path:
        """A snippet's file: in the first base path that has it (pymdownx.snippets)."""
        name = name.split(":")[0]
        for base in self.site.snippet_bases or (self.site.root,):
            if (base / name).is_file():
                return base / name
        return (self.site.snippet_bases or (self.site.root,))[0] / name

    def _include(self, path: Path, offset: int, written: str) -> str | None:
        """The file's text, given meaning in turn; None (kept as written) if deeper than allowed."""
        text = self._read(path, offset, self.text, written)
        if text is None:
            return ""
        if self.depth >= MAX_INCLUDE_DEPTH:
            line, column = self._place(offset)
            self.diagnostics.append(warning(
                "R010", f"the include of '{written}' is nested more than {MAX_INCLUDE_DEPTH} deep; it is left out",
                hint="include the file from the article itself", path=self.path, line=line, column=column))
            return ""
        inner = _Pass(self.article, self.site, path, 1, self.depth + 1, self.diagnostics)
        return inner.run(text).rstrip("\n")

    def _read(self, path: Path, offset: int, text: str, written: str = "") -> str | None:
        """A file through the gate, inside the site; a located diagnostic if it cannot be."""
        line, column = self._place(offset, text)
        written = written or path.name
        try:
            data = read_bytes(path, (self.site.root,))
            if len(data) > MAX_INCLUDE_BYTES:
                raise ResourceRefused(f"'{written}' is larger than {MAX_INCLUDE_BYTES >> 20} MiB")
            return data.decode("utf-8-sig").replace("\r\n", "\n")
        except NotFound:
            self.diagnostics.append(warning(
                "R010", f"the included file '{written}' is not in the site; the include is left out",
                hint="copy the file into the site folder, or paste its text in place of the include",
                path=self.path, line=line, column=column))
        except HardLinked as exc:
            self.diagnostics.append(error("C011", str(exc), hint="copy the file (cp, not ln)",
                                          path=self.path, line=line, column=column))
        except (ResourceRefused, UnicodeDecodeError) as exc:
            reason = "it is not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else str(exc)
            self.diagnostics.append(error(
                "R010", f"the included file '{written}' cannot be read: {reason}",
                hint="include only text files inside the site folder", path=self.path, line=line, column=column))
        return None

    def append_snippets(self, body: str) -> str:
        """pymdownx.snippets' auto_append files (reference links), after the body;
        abbreviation lines (`*[PyPI]: …`) are left out (no abbreviations here)."""
        for name in self.site.auto_append:
            text = self._read(self._snippet_path(name), len(self.text), self.text, name)
            if text:
                body = body.rstrip("\n") + "\n\n" + _ABBREVIATION.sub("", text)
        return body

    # -- what is left

    def _leftovers(self, text: str) -> str:
        """mdBook directives left (not an mdBook site, or not one we read):
        printed, and reported unless inside a code span (`{{#include x}}` in
        backticks is a page about mdBook showing one; in a fenced block it
        is a listing that was meant to be included, and is reported)."""
        for match in re.finditer(r"\{\{\s*#\s*([\w-]+)[^}]*\}\}", text):
            if _in_code_span(text, match.start(), match.end()):
                continue
            self._warn(f"the mdBook directive '{{{{#{match.group(1)} …}}}}'", match.start(), printed=True, text=text)
        return text


def _balanced_end(lines: list[str], start: int) -> int:
    """The line after an `export …` statement: where its brackets close."""
    depth = 0
    for index in range(start, min(start + 200, len(lines))):
        depth += sum(lines[index].count(c) for c in "{([") - sum(lines[index].count(c) for c in "})]")
        if depth <= 0:
            return index + 1
    return start + 1


def _select(text: str, selector: str) -> str:
    """mdBook's `file:anchor`, `file:3:10`, `file:3:` and `file::10`; ANCHOR lines dropped."""
    lines = text.rstrip("\n").split("\n")
    if selector and not re.fullmatch(r"\d*(?::\d*)?", selector):
        begin = next((i for i, l in enumerate(lines) if re.search(rf"ANCHOR:\s*{re.escape(selector)}\b", l)), None)
        end = next((i for i, l in enumerate(lines) if re.search(rf"ANCHOR_END:\s*{re.escape(selector)}\b", l)),
                   len(lines))
        lines = lines[begin + 1:end] if begin is not None else lines
    elif selector:
        first, _, last = selector.partition(":")
        lines = lines[int(first) - 1 if first else 0:int(last) if last else (int(first) if first and ":" not in selector
                                                                               else None)]
    return "\n".join(line for line in lines if not re.search(r"ANCHOR(?:_END)?:", line))


def _lookup(values: dict, key: str) -> object:
    """`a.b` in a nested mapping, with Hugo's case-insensitive keys."""
    value: object = values
    for part in key.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part, next((v for k, v in value.items() if str(k).lower() == part.lower()), None))
    return value


def _figure(named: dict[str, str]) -> str:
    """Hugo's figure as an image paragraph, which the renderer makes a figure:
    the caption (Markdown) is the image's description, or its title when an
    alt text is given apart."""
    src = named.get("src", "")
    caption = named.get("caption") or named.get("title") or ""
    target = f"<{src}>" if " " in src else src
    if named.get("alt") and caption:
        image = f'![{named["alt"].replace("]", "")}]({target} "{caption.replace(chr(34), chr(92) + chr(34))}")'
    else:
        image = f"![{(caption or named.get('alt', '')).replace(']', '')}]({target})"
    return f"[{image}]({named['link']})" if named.get("link", "").startswith("https://") else image


def _embed_address(name: str, positional: list[str], named: dict[str, str]) -> str:
    """The web address of a video, a post or a gist."""
    ident = named.get("id") or (positional[0] if positional else "")
    if name == "youtube" and ident:
        return f"https://www.youtube.com/watch?v={quote(ident)}"
    if name == "vimeo" and ident:
        return f"https://vimeo.com/{quote(ident)}"
    if name in ("tweet", "x"):
        user = named.get("user") or (positional[0] if len(positional) > 1 else "")
        ident = named.get("id") or (positional[-1] if positional else "")
        return f"https://x.com/{quote(user)}/status/{quote(ident)}" if user else (
            f"https://x.com/i/status/{quote(ident)}" if ident else "")
    if name == "gist" and len(positional) >= 2:
        return f"https://gist.github.com/{quote(positional[0])}/{quote(positional[1])}"
    return ""


def _card(kind: str, address: str, alone: bool) -> str:
    """A link card: what it is, and its address as a link (a paper reader can type it)."""
    link = f'<a href="{address}">{address}</a>'
    return f'<p class="embed">{kind}: {link}</p>' if alone else f'<span class="embed">{kind}: {link}</span>'


_SUMMARY_MARKER = re.compile(r"^[ \t]*<!--\s*(?:more|truncate)\s*-->[ \t]*$", re.M)


def _summary_before_marker(body: str) -> str:
    """The text before `<!--more-->` or `<!--truncate-->` (outside code), as
    one paragraph of Markdown: headings, images and HTML lines left out."""
    fenced = _fence_lines(body.split("\n"))
    for match in _SUMMARY_MARKER.finditer(body):
        if body.count("\n", 0, match.start()) in fenced:
            continue
        kept = [line.strip() for index, line in enumerate(body[:match.start()].split("\n"))
                if line.strip() and index not in fenced and not re.match(r"\s*(#|!\[|<|\[[^\]]+\]:|:::|---)", line)]
        return " ".join(kept)
    return ""
