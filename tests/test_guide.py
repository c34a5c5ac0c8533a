"""The guide (docs/guide/) is a book of this tool's own format: it builds into
a PDF and an EPUB that pass what any book must, and every shell command its
chapters show either runs as shown or is marked `<!-- not run: reason -->`.
The README stays the short door to it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from pypdf import PdfReader

from pipeline import build
from pipeline.load import load_book

from conftest import ROOT, epubcheck_messages

GUIDE = ROOT / "docs" / "guide"
README = ROOT / "README.md"
BIN = Path(sys.executable).parent
SHELLS = {"console", "sh", "shell", "bash", "zsh", "shell-session"}
NOT_RUN = re.compile(r"^<!--\s*not run:\s*(\S.*?)\s*-->\s*$")
EXAMPLE = "my-book"  # the folder `pipeline new` makes for a block to work in


@dataclass(frozen=True)
class Command:
    text: str
    shown: tuple[str, ...]  # the lines the guide shows it printing


@dataclass(frozen=True)
class Block:
    chapter: str
    line: int  # of the opening fence, from 1
    language: str
    content: str
    not_run: str | None  # the reason given, if the block is marked

    def commands(self) -> list[Command]:
        """`$ ` lines (a trailing backslash continues one), each with the
        lines shown after it."""
        commands: list[list] = []
        continued = False
        for line in self.content.rstrip("\n").split("\n"):
            if continued:
                commands[-1][0] += "\n" + line
            elif line.startswith("$ "):
                commands.append([line[2:], []])
            elif commands and line.strip():
                commands[-1][1].append(line)
            continued = line.endswith("\\") and bool(commands)
        return [Command(text, tuple(shown)) for text, shown in commands]


def _blocks() -> list[Block]:
    """Every shell code block of the chapters, with its marker if it has one
    (an HTML comment on the line right above the fence)."""
    parser = MarkdownIt("commonmark")
    blocks = []
    for chapter in sorted(GUIDE.glob("*.md")):
        tokens = parser.parse(chapter.read_text(encoding="utf-8"))
        for index, token in enumerate(tokens):
            language = token.info.split()[0] if token.type == "fence" and token.info.split() else ""
            if language not in SHELLS:
                continue
            before = tokens[index - 1] if index else None
            marker = None
            if before is not None and before.type == "html_block" and before.map[1] == token.map[0]:
                match = NOT_RUN.match(before.content.strip())
                marker = match.group(1) if match else None
            blocks.append(Block(chapter.name, token.map[0] + 1, language, token.content, marker))
    return blocks


BLOCKS = _blocks()
RUN = [block for block in BLOCKS if block.not_run is None]


def test_the_guide_shows_shell_commands_and_runs_most_of_them():
    assert len(RUN) >= 6 and len(BLOCKS) > len(RUN)


def test_every_shell_block_is_run_or_says_why_not():
    """A block is run when it is ```console with `$ ` lines; any other shell
    block must carry `<!-- not run: reason -->` right above it."""
    unmarked = [f"{b.chapter}:{b.line}" for b in RUN if b.language != "console" or not b.commands()]
    assert unmarked == [], "mark these blocks <!-- not run: reason --> or make them ```console with $ lines"


@pytest.mark.parametrize("block", RUN, ids=[f"{b.chapter}:{b.line}" for b in RUN])
def test_a_shell_block_of_the_guide_runs_as_shown(block, tmp_path):
    """In a new folder with the example book (`pipeline new my-book`; an
    empty folder when the block makes its own), each command exits 0, or
    non-zero when the block shows it printing an error; every line shown is
    printed, `…` standing for any text."""
    commands = block.commands()
    environment = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    if not commands[0].text.startswith("pipeline new"):
        subprocess.run([BIN / "pipeline", "new", EXAMPLE], cwd=tmp_path, check=True, capture_output=True)
    for command in commands:
        done = subprocess.run(["bash", "-c", command.text], cwd=tmp_path, env=environment,
                              capture_output=True, text=True, timeout=300)
        printed = (done.stdout + done.stderr).splitlines()
        failing = any("error[" in line for line in command.shown)
        assert (done.returncode != 0) == failing, (command.text, done.returncode, done.stdout + done.stderr)
        for shown in command.shown:
            pattern = re.compile(".*".join(re.escape(part) for part in shown.split("…")))
            assert any(pattern.fullmatch(line) for line in printed), (command.text, shown, printed)


@pytest.fixture(scope="module")
def built_guide(tmp_path_factory):
    out = tmp_path_factory.mktemp("guide")
    result = build(GUIDE, out, jobs=2, time_limit=0)  # a busy CI machine: no layout limit here
    assert result.ok, [d.format() for d in result.diagnostics]
    assert list(result.diagnostics) == [], [d.format() for d in result.diagnostics]
    [pdf] = [path for path in result.outputs if path.suffix == ".pdf"]
    [epub] = [path for path in result.outputs if path.suffix == ".epub"]
    return pdf, epub


def test_the_guide_s_epub_passes_epubcheck_without_a_message(built_guide):
    assert epubcheck_messages(built_guide[1]) == []


def test_the_guide_s_pdf_has_a_bookmark_for_each_chapter_in_order(built_guide):
    book, _ = load_book(GUIDE)
    chapters = [article.title for article in book.articles]
    assert len(chapters) == len(list(GUIDE.glob("*.md"))) >= 12
    outline = [item.title for item in PdfReader(built_guide[0]).outline if not isinstance(item, list)]
    assert [title for title in outline if title in chapters] == chapters


def test_pipeline_check_strict_finds_nothing_in_the_guide():
    done = subprocess.run([BIN / "pipeline", "check", GUIDE, "--strict"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 warning(s)" in done.stdout + done.stderr


# --- the README: the short door ------------------------------------------------------------------


def test_the_readme_opens_with_the_two_commands_and_stays_short():
    lines = README.read_text(encoding="utf-8").split("\n")
    opening = "\n".join(lines[:12])
    assert "make build" in opening and "make test" in opening
    assert len(lines) < 250
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE))
    assert {"build", "test", "guide"} <= targets


def test_the_readme_names_every_test_file_that_skips_without_the_shared_folder():
    """The files that read ../shared (through conftest's SHARED or SEEDS, or
    seed_sentences) are the ones the README lists, and no other."""
    readers = {path.name for path in (ROOT / "tests").glob("test_*.py")
               if re.search(r"^from conftest import .*\b(SHARED|SEEDS|seed_sentences)\b",
                            path.read_text(encoding="utf-8"), re.MULTILINE)}
    section = README.read_text(encoding="utf-8").split("beside the project in `../shared`", 1)[1].split("\n## ")[0]
    named = set(re.findall(r"`tests/(test_\w+\.py)`", section))
    assert readers and named == readers
