"""The PDF booklet typeset by Typst (typst-py, in process): the second PDF
engine, chosen by `[pdf] engine = "typst"` or `pipeline build --engine typst`.

It takes the same `RenderedBook` as the WeasyPrint exporter (the sanitized
XHTML of each article, never the Markdown), writes it as Typst markup
(`markup`), puts it in the template (`styles/typst/booklet.typ`, or the
book's own `styles/typst/booklet.typ`: `document`) and compiles it:

- in a private folder that is Typst's root, holding main.typ, the template
  and copies of exactly the images and formula drawings the book uses:
  nothing else is readable from the document;
- with exactly the fonts we chose (`document.font_files`: ours, the Noto
  faces of the scripts used, the book's own), no system or embedded font,
  so the output does not depend on the machine;
- tagged (PDF/UA-1) always, /Lang and the title set, and with the build's
  timestamp, so that the bytes are reproducible.

What Typst cannot do that the book asks for (a book's print.css, written
for WeasyPrint) is refused with a located message (X009), never dropped.
"""
