"""Text as every stage reads it, below them all: source text decoded and
located for messages (`sourcetext`), and the Markdown parser (`markdown`,
with its syntax for callouts, `callouts`, and for citations, `citemarks`),
and a language's quotation marks (`quotes`: the renderer curls straight
quotes, the font plan needs the characters it will print).
Load parses manuscripts with it to find articles and titles, render to make
XHTML; neither reaches up to the other for it.
"""
