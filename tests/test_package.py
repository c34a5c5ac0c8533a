"""Packaging: an installed `pipeline` carries its styles, templates and fonts,
so it builds a book anywhere, not only inside this repository."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_ships_styles_and_builds_a_book_elsewhere(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(wheels), str(ROOT)], check=True, capture_output=True)
    [wheel] = wheels.glob("pipeline-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "site")
    for required in ("pipeline/styles/print.css", "pipeline/styles/templates/booklet.html",
                     "pipeline/styles/fonts/SourceSerifPro-Regular.ttf", "pipeline/commands/cli.py",
                     "pipeline/export/pdf/engine.py", "pipeline/export/manifest.schema.json"):
        assert required in names, required
    # Run from a folder with no repository around it, importing only the wheel.
    work = tmp_path / "elsewhere"
    shutil.copytree(ROOT / "manuscripts", work / "book")
    done = subprocess.run(
        [sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
         "import pipeline, pipeline.styles as s; assert str(s.styles_dir()).startswith(sys.argv[1]); "
         "from pipeline.commands.cli import main; sys.exit(main(['build', 'book', '--out', 'out']))",
         str(tmp_path / "site")],
        cwd=work, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (work / "out").iterdir() if not p.name.startswith(".")) == [
        "kratom-and-muscle-soreness.epub", "kratom-and-muscle-soreness.pdf"]
