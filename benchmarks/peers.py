"""The peers a publisher would pick instead of us, as one timed command each
(benchmarks/run.py --engines measures this script under measure.py, so
pandoc's conversion, the engine's start-up and its layout all count).

Usage: python benchmarks/peers.py typst|prince OUT.pdf TITLE LANGUAGE TOC_DEPTH ARTICLE.md...

- typst: pandoc 3 (the binary that pypandoc-binary ships) writes Typst
  markup with its own template, set like our booklet by pandoc-typst.yaml,
  then typst-py (the library our Typst exporter uses) compiles it with our
  fonts only.
- prince: pandoc 3 writes standalone HTML with a contents and sections,
  styled by pandoc-paged.css (the same booklet as the "pandoc, paged"
  WeasyPrint column), and Prince (the prince-pdf wheel's binary; its free
  licence marks the first page) prints it.

Both need the `bench` extra (pip install -e '.[bench]'). Written for the
benchmark; not part of the pipeline.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
FONTS = HERE.parent / "styles" / "fonts"


def pandoc3() -> str:
    import pypandoc  # pypandoc-binary: its bundled pandoc 3, not the machine's

    return pypandoc.get_pandoc_path()


def prince() -> str:
    found = shutil.which("prince", path=str(Path(sys.executable).parent))
    if found is None:
        raise SystemExit("Prince is not installed: pip install -e '.[bench]' (the prince-pdf wheel)")
    return found


def pandoc(articles: list[str], title: str, language: str, depth: int, output: Path, *options: str) -> None:
    """pandoc 3 on the articles, each file's footnotes its own (--file-scope), with
    a contents as deep as our booklet's (`depth`: 2 lists articles and their sections)."""
    subprocess.run([pandoc3(), "--file-scope", "--metadata", f"title={title}", "--metadata", f"lang={language}",
                    "-s", "--toc", f"--toc-depth={depth}", *options, "-o", str(output), *articles], check=True)


def with_typst(output: Path, title: str, language: str, depth: int, articles: list[str]) -> None:
    import typst

    with tempfile.TemporaryDirectory(prefix="peer-typst-") as folder:
        source = Path(folder) / "book.typ"
        pandoc(articles, title, language, depth, source, "-t", "typst", "--metadata-file", str(HERE / "pandoc-typst.yaml"))
        fonts = typst.Fonts(include_system_fonts=False, include_embedded_fonts=False, font_paths=[str(FONTS)])
        output.write_bytes(typst.compile(str(source), font_paths=fonts, ignore_system_fonts=True, format="pdf"))


def with_prince(output: Path, title: str, language: str, depth: int, articles: list[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="peer-prince-") as folder:
        page = Path(folder) / "book.html"
        pandoc(articles, title, language, depth, page, "--section-divs", "--css", str(HERE / "pandoc-paged.css"))
        subprocess.run([prince(), "--no-network", "--silent", str(page), "-o", str(output)], check=True)


PEERS = {"typst": with_typst, "prince": with_prince}


def main(argv: list[str]) -> None:
    if len(argv) < 6 or argv[0] not in PEERS or not argv[4].isdigit():
        raise SystemExit(__doc__.split("\n\n")[1])
    name, output, title, language, depth, *articles = argv
    PEERS[name](Path(output), title, language, int(depth), articles)


if __name__ == "__main__":
    main(sys.argv[1:])
