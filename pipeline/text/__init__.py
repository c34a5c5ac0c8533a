"""Text as every stage reads it, below them all: source text decoded and
located for messages (`sourcetext`). Load reads manuscripts with it to find
titles, render to make XHTML; neither reaches up to the other for it.
"""
