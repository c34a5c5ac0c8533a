"""Generate a synthetic book of N articles for the benchmark.

Usage: python benchmarks/generate.py N DIR [--seed SEED]

The text is nonsense drawn from a fixed vocabulary by a seeded RNG, so the
same N and seed always give the same bytes (timings stay comparable between
runs and machines). Each article gets its own RNG, seeded from the book seed
and its number, so article 7 is the same in a book of 20 and a book of 300:
a bigger book is a smaller one plus more articles, nothing else.

Every article exercises what real manuscripts use: YAML front matter (title,
summary, blurb), `##` sections, a bulleted list, a block quote and one
footnote, in about 800 words.
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path

DEFAULT_SEED = 20261123
WORDS_PER_ARTICLE = 800
SECTIONS_PER_ARTICLE = 4
GENERATED_NAME = re.compile(r"\d{3,}-article(-\d+)?\.md")  # with or without the number (earlier books)

VOCABULARY = """
able account active advice almost amount animal answer area argument arm
attention balance basis beautiful behaviour belief benefit better body border
bread bright building business careful cause central chance change chapter
character choice circle clear climate closely common complete condition
control corner country course current daily damage decision deep degree
demand design detail develop different direct distance doctor early effect
effort energy enough evening evidence exact example exercise experience
factor family famous feeling field figure final focus follow force formal
friendly future garden general gentle ground group growth habit happy health
heavy history honest human idea image important increase inside interest
island journey kitchen knowledge language large late leader level light
likely limit local long machine manner market matter measure memory method
middle minute modern moment morning muscle music narrow natural nearly
network normal notice number object obvious ocean office open order outside
pattern peace period person picture place plain pleasure point position
practice present pressure private problem process public quality question
quiet rapid rather reason recent record region regular relief remain report
result return river rough safety sample science season second sense series
serious shape short signal simple single slow small social soft solid sound
source space special spring square stable start state steady stone story
strong study subject sudden summer support surface system table teacher
theory thought today travel true typical under unit useful usual value
various village visible voice water weather whole window winter within
wonder worker young
""".split()  # noqa: SIM905 (a word list reads best as plain text)


def words(rng: random.Random, count: int) -> list[str]:
    """`count` words from the vocabulary; sampling with replacement keeps it cheap."""
    return rng.choices(VOCABULARY, k=count)


def sentence(rng: random.Random, low: int = 8, high: int = 18) -> str:
    """A capitalised sentence with an occasional comma and *emphasis* for inline markup."""
    chosen = words(rng, rng.randint(low, high))
    chosen[0] = chosen[0].capitalize()
    if len(chosen) > 6 and rng.random() < 0.3:
        chosen[3] += ","
    if rng.random() < 0.2:
        index = rng.randrange(len(chosen))
        chosen[index] = f"*{chosen[index].rstrip(',')}*" + ("," if chosen[index].endswith(",") else "")
    return " ".join(chosen) + "."


def paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(sentence(rng) for _ in range(sentences))


def title_case(rng: random.Random, count: int) -> str:
    return " ".join(word.capitalize() for word in words(rng, count))


def folded_yaml(text: str, width: int = 76) -> str:
    """`text` as the indented lines of a YAML `>-` block (folded, so wrapping is harmless)."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "\n".join(f"  {line}" for line in lines)


def word_count(text: str) -> int:
    return len(text.split())


def article(number: int, seed: int = DEFAULT_SEED, target_words: int = WORDS_PER_ARTICLE) -> str:
    """The Markdown source of article `number` (1-based), about `target_words` words long.

    Paragraphs are added until the body reaches the target, spread over the
    sections, so the length is near the target whatever the RNG draws.
    """
    rng = random.Random(f"{seed}:{number}")
    title = f"Article {number}: {title_case(rng, 4)}"
    summary = paragraph(rng, 3)
    blurb = paragraph(rng, 3)
    bullets = [sentence(rng, 4, 9) for _ in range(4)]
    quote = paragraph(rng, 2)
    note = sentence(rng, 6, 12)

    fixed = word_count(summary) + word_count(blurb) + word_count(" ".join(bullets)) + word_count(quote)
    sections: list[list[str]] = [[] for _ in range(SECTIONS_PER_ARTICLE)]
    body_words = fixed
    index = 0
    while body_words < target_words:
        text = paragraph(rng, rng.randint(3, 6))
        sections[index % SECTIONS_PER_ARTICLE].append(text)
        body_words += word_count(text)
        index += 1

    parts = [
        "---",
        f'title: "{title}"',
        "summary: >-",
        folded_yaml(summary),
        "blurb: >-",
        folded_yaml(blurb),
        "---",
        "",
    ]
    for number_in_article, paragraphs in enumerate(sections, start=1):
        parts += [f"## {title_case(rng, 3)}", ""]
        for position, text in enumerate(paragraphs):
            if number_in_article == 1 and position == 0:
                text += "[^1]"  # the article's one footnote, in its first paragraph
            parts += [text, ""]
        if number_in_article == 2:
            parts += [f"- {item}" for item in bullets] + [""]
        if number_in_article == 3:
            parts += [f"> {quote}", ""]
    parts += [f"[^1]: {note}", ""]
    return "\n".join(parts)


def book_toml(count: int) -> str:
    """A minimal but complete [book] table; the date pins the build timestamp (reproducible builds)."""
    return "\n".join([
        "[book]",
        f'title = "Benchmark Book of {count} Articles"',
        'authors = ["Benchmark Generator"]',
        'language = "en"',
        'date = "2026-01-01"',
        "",
    ])


def article_filename(number: int, count: int) -> str:
    """Zero-padded so that file-name order is reading order; the number again
    after the prefix, because the slug is the file name without it
    (`007-article-7.md` -> `article-7`)."""
    width = max(3, len(str(count)))
    return f"{number:0{width}d}-article-{number}.md"


def clear_generated(directory: Path) -> None:
    """Remove an earlier generated book from `directory`; refuse if it holds other files."""
    if not directory.exists():
        return
    ours = [p for p in directory.iterdir() if p.name == "book.toml" or GENERATED_NAME.fullmatch(p.name)]
    others = [p.name for p in directory.iterdir() if p not in ours]
    if others:
        raise FileExistsError(f"{directory} holds files this generator did not write "
                              f"(e.g. {min(others)}); choose an empty or new folder")
    for path in ours:
        path.unlink()


def generate(count: int, directory: Path, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write a fresh book of `count` articles into `directory`; return the manuscripts.

    A previous generated book there is replaced, but a folder holding anything
    else is refused: a mistyped DIR must not cost someone their files.
    """
    if count < 1:
        raise ValueError("a book needs at least one article")
    clear_generated(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "book.toml").write_text(book_toml(count), encoding="utf-8")
    paths = []
    for number in range(1, count + 1):
        path = directory / article_filename(number, count)
        path.write_text(article(number, seed), encoding="utf-8")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a synthetic benchmark book of N articles into DIR.")
    parser.add_argument("count", type=int, metavar="N", help="number of articles")
    parser.add_argument("directory", type=Path, metavar="DIR", help="book folder to create (replaced if it exists)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"RNG seed (default {DEFAULT_SEED})")
    args = parser.parse_args(argv)
    try:
        paths = generate(args.count, args.directory, args.seed)
    except (ValueError, FileExistsError) as problem:
        parser.error(str(problem))
    total = sum(word_count(path.read_text(encoding="utf-8")) for path in paths)
    print(f"wrote {len(paths)} articles ({total} words) to {args.directory}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
