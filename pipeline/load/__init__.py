"""Load: book.toml and the manuscripts -> a `Book` of `Article`s.

The first stage. It reads only through the gate of `pipeline.resources`,
parses no Markdown beyond finding titles, and never imports a renderer or
WeasyPrint. `config` reads book.toml, `frontmatter` a manuscript's YAML,
`structure` splits one-file books into articles, and `manuscripts` puts
the book together; text is decoded and located for messages by
`pipeline.text.sourcetext`.
"""


__all__ = ["load_article", "load_book", "slugify"]


def __getattr__(name: str):
    """Imported on first use: a no-op rebuild reads book.toml (load.config)
    and stops there, without loading the Markdown parser."""
    if name in __all__:
        from . import manuscripts

        return getattr(manuscripts, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
