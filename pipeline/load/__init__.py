"""Load: book.toml and the manuscripts -> a `Book` of `Article`s.

The first stage. It reads only through the gate of `pipeline.resources`,
parses no Markdown beyond finding titles, and never imports a renderer or
WeasyPrint. `config` reads book.toml, `frontmatter` a manuscript's YAML,
`structure` splits one-file books into articles, `manuscripts` puts the
book together, and `sourcetext` decodes and locates text for messages.
"""

from .manuscripts import load_article, load_book, slugify

__all__ = ["load_article", "load_book", "slugify"]
