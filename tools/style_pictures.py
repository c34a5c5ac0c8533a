"""Pictures of the `[style]` options for the guide: `python tools/style_pictures.py`.

Builds one small book per option set (the project's own first article, a
drawn logo), renders its cover, title page and first opener with pypdfium2 and writes
`docs/guide/images/style/<name>.png` (the pictures of the guide's chapter
"Styling"), the three pages side by side. Run it again after a
change of `print.css` or of the templates, and look at the pictures.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image, ImageDraw
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import build  # noqa: E402

OPTIONS = {
    "default": "",
    "accent": '[style]\naccent = "#2a6f97"\n',
    "logo": '[style]\naccent = "#2a6f97"\nlogo = "images/logo.png"\n',
    "cover-background": '[style]\ncover-background = "#efe6d8"\naccent = "#7a2e1f"\n',
    "heading-font": '[style]\nheading-font = "Book Serif"\naccent = "#33553a"\n',
}


def logo(path: Path) -> None:
    """A plain mark: a disc and a bar, on a transparent ground."""
    image = Image.new("RGBA", (240, 240), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((20, 20, 220, 220), fill=(255, 200, 40, 255))
    draw.rectangle((60, 105, 180, 135), fill=(255, 255, 255, 255))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def picture(name: str, table: str, work: Path, out: Path) -> Path:
    book = work / name / "book"
    book.mkdir(parents=True)
    first = sorted((ROOT / "manuscripts").glob("*.md"))[0]
    shutil.copy(first, book / first.name)
    (book / "book.toml").write_text('[book]\ntitle = "Kratom and Muscle Soreness"\n'
                                    'subtitle = "Two articles on natural relief"\nauthors = ["The Editors"]\n'
                                    'date = "2026-11-23"\n\n' + table, encoding="utf-8")
    logo(book / "images" / "logo.png")
    result = build(book, work / name / "out", formats=("pdf",), cache=False)
    if not result.ok:
        raise SystemExit("\n".join(d.format() for d in result.diagnostics))
    opener = PdfReader(result.outputs[0]).page_labels.index("1")
    document = pdfium.PdfDocument(result.outputs[0])
    pages = [document[index].render(scale=0.6).to_pil().convert("RGB") for index in (0, 2, opener)]
    width, height = pages[0].size
    sheet = Image.new("RGB", (len(pages) * (width + 12) - 12, height), "#dddddd")
    for index, page in enumerate(pages):
        sheet.paste(page, (index * (width + 12), 0))
    target = out / f"{name}.png"
    sheet.save(target, optimize=True)
    return target


def main() -> int:
    out = ROOT / "docs" / "guide" / "images" / "style"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        for name, table in OPTIONS.items():
            print(picture(name, table, Path(work), out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
