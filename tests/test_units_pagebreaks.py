"""Unit tests for `pipeline.export.pagebreaks`: the position of a printed
page (block ordinal, letters before the break) and the marker the EPUB puts
there. No layout: the blocks are written by hand."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from hypothesis import given, settings, strategies as st
from lxml import etree

from pipeline.export.pagebreaks import block_elements, insert_markers, letters, local_name
from pipeline.model import PageBreak

XHTML = "http://www.w3.org/1999/xhtml"


def _marker(page_break: PageBreak) -> etree._Element:
    return etree.Element("mark", {"page": page_break.label})


def _breaks(*offsets: int) -> list[PageBreak]:
    return [PageBreak(str(number), 0, 0, offset) for number, offset in enumerate(offsets, start=1)]


def _text(element) -> str:
    return "".join(element.itertext())


def _stream(block) -> list[str | None]:
    """The block's text chunks in reading order, None where a marker is."""
    chunks: list[str | None] = []

    def walk(element) -> None:
        if element is not block and element.tag == "mark":
            chunks.append(None)
        elif element.text:
            chunks.append(element.text)
        for child in element:
            walk(child)
            if child.tail:
                chunks.append(child.tail)

    walk(block)
    return chunks


def _before_each_marker(block) -> list[str]:
    """The block's text before each marker, in document order."""
    chunks = _stream(block)
    return ["".join(c for c in chunks[:i] if c) for i, c in enumerate(chunks) if c is None]


def _after_each_marker(block) -> list[str]:
    chunks = _stream(block)
    return ["".join(c for c in chunks[i:] if c) for i, c in enumerate(chunks) if c is None]


def _without_markers(block) -> str:
    copy = etree.fromstring(etree.tostring(block))
    etree.strip_elements(copy, "mark", with_tail=False)
    return etree.tostring(copy, encoding="unicode")


# ---------------------------------------------------------------- letters


def test_letters_counts_letters_and_digits_of_any_script_and_nothing_else():
    assert letters("") == 0
    assert letters("  -- , . ; « » “ ” \u00ad \u200b") == 0  # space, punctuation, soft hyphen, ZWSP
    assert letters("Page 12!") == 6
    assert letters("co-op") == 4  # a hyphen a layout may add or drop is not counted
    assert letters("日本語の本。") == 5  # each ideograph and kana; the ideographic full stop is not
    assert letters("بِسْمِ") == 3  # Arabic: three letters, the vowel marks are not counted
    assert letters("שָׁלוֹם") == 4  # Hebrew: four letters, the points are not counted
    assert letters("١٢٣") == 3  # Arabic-Indic digits


# ---------------------------------------------------------------- block_elements


def test_block_elements_in_document_order_nested_blocks_included_footnotes_left_out():
    article = etree.fromstring(
        "<section><h2>Title</h2><p>one</p><div><ul><li><p>in item</p></li><li>two</li></ul></div>"
        "<!-- a comment --><?pi x?><blockquote><p>quoted</p></blockquote>"
        '<div class="notes footnotes"><ol><li><p>note</p></li></ol></div>'
        "<table><tr><th>h</th><td>d</td></tr><caption>cap</caption></table>"
        "<figure><img/><figcaption>fig</figcaption></figure><pre>code</pre><span>inline</span></section>")
    blocks = block_elements(article, "footnotes")
    assert [(local_name(b), _text(b)) for b in blocks] == [
        ("h2", "Title"), ("p", "one"), ("li", "in item"), ("p", "in item"), ("li", "two"),
        ("blockquote", "quoted"), ("p", "quoted"), ("th", "h"), ("td", "d"), ("caption", "cap"),
        ("figcaption", "fig"), ("pre", "code")]


def test_block_elements_reads_namespaced_lxml_and_elementtree_trees_alike():
    source = (f'<body xmlns="{XHTML}"><section><h1>A</h1><p>b</p>'
              '<div class="footnote-note"><p>note</p></div><dl><dt>c</dt><dd>d</dd></dl></section></body>')
    for tree in (etree.fromstring(source), ElementTree.fromstring(source)):
        blocks = block_elements(tree, "footnote-note")
        assert [local_name(b) for b in blocks] == ["h1", "p", "dt", "dd"]
        assert [_text(b) for b in blocks] == ["A", "b", "c", "d"]


def test_block_elements_skips_only_the_named_class():
    article = etree.fromstring('<div><p class="footnote">kept</p><p class="footnotes x">skipped</p></div>')
    assert [_text(b) for b in block_elements(article, "footnotes")] == ["kept"]


# ---------------------------------------------------------------- insert_markers


def test_marker_lands_before_the_letter_at_the_offset_in_plain_text():
    block = etree.fromstring("<p>“Hello, world”</p>")
    insert_markers(block, _breaks(0), _marker)
    assert etree.tostring(block, encoding="unicode") == '<p>“<mark page="1"/>Hello, world”</p>'
    block = etree.fromstring("<p>“Hello, world”</p>")
    insert_markers(block, _breaks(5), _marker)  # five letters before: before the "w"
    assert etree.tostring(block, encoding="unicode") == '<p>“Hello, <mark page="1"/>world”</p>'


def test_marker_lands_inside_nested_inline_markup_and_in_tails():
    source = "<p>ab <em>cd <strong>ef</strong></em> gh<a href='#x'>i</a></p>"
    expected = {
        0: '<p><mark page="1"/>ab <em>cd <strong>ef</strong></em> gh<a href="#x">i</a></p>',
        2: '<p>ab <em><mark page="1"/>cd <strong>ef</strong></em> gh<a href="#x">i</a></p>',
        3: '<p>ab <em>c<mark page="1"/>d <strong>ef</strong></em> gh<a href="#x">i</a></p>',
        4: '<p>ab <em>cd <strong><mark page="1"/>ef</strong></em> gh<a href="#x">i</a></p>',
        6: '<p>ab <em>cd <strong>ef</strong></em> <mark page="1"/>gh<a href="#x">i</a></p>',
        8: '<p>ab <em>cd <strong>ef</strong></em> gh<a href="#x"><mark page="1"/>i</a></p>',
    }
    for offset, markup in expected.items():
        block = etree.fromstring(source)
        insert_markers(block, _breaks(offset), _marker)
        assert etree.tostring(block, encoding="unicode") == markup, offset


def test_offset_past_the_end_or_a_block_without_letters_puts_the_marker_last():
    block = etree.fromstring("<p>ab <em>cd</em> …</p>")
    insert_markers(block, _breaks(4, 99), _marker)
    assert etree.tostring(block, encoding="unicode") == '<p>ab <em>cd</em> …<mark page="1"/><mark page="2"/></p>'
    empty = etree.fromstring("<td>—</td>")
    insert_markers(empty, _breaks(0), _marker)
    assert etree.tostring(empty, encoding="unicode") == '<td>—<mark page="1"/></td>'


def test_several_breaks_keep_their_order_also_at_one_position():
    block = etree.fromstring("<p>abc <em>def</em> ghi</p>")
    insert_markers(block, _breaks(2, 2, 8), _marker)  # a blank page, the page after it, a third
    assert etree.tostring(block, encoding="unicode") == (
        '<p>ab<mark page="1"/><mark page="2"/>c <em>def</em> gh<mark page="3"/>i</p>')


def test_rtl_marker_goes_before_a_base_letter_never_between_it_and_its_marks():
    word = "بِسْمِ ٱللَّهِ"
    block = etree.fromstring(f"<p dir='rtl'>{word}</p>")
    insert_markers(block, _breaks(1, 4), _marker)
    assert _before_each_marker(block) == ["بِ", "بِسْمِ ٱ"]
    assert _text(block) == word
    hebrew = etree.fromstring("<p>שָׁלוֹם <b>עוֹלָם</b></p>")
    insert_markers(hebrew, _breaks(5), _marker)
    assert _before_each_marker(hebrew) == ["שָׁלוֹם ע"]


def test_cjk_each_character_is_a_position_and_punctuation_is_not():
    block = etree.fromstring("<p>「東京」は<ruby>日本<rt>にほん</rt></ruby>の首都。</p>")
    insert_markers(block, _breaks(2, 3, 8), _marker)
    assert _before_each_marker(block) == ["「東京」", "「東京」は", "「東京」は日本にほん"]


BLOCKS = [
    "<p>Plain text, with punctuation; and 12 digits.</p>",
    "<p>ab <em>cd <strong>ef</strong></em> gh<br/>ij<a href='#n'><sup>1</sup></a>.</p>",
    "<li><p>nested block</p> and tail <code>x = 1</code></li>",
    "<p dir='rtl'>مرحبا <em>بِكُم</em> في ١٢ صفحة</p>",
    "<p>漢字と<b>かな</b>、カナ。<i>ABC</i></p>",
]


@settings(max_examples=60, deadline=None)
@given(source=st.sampled_from(BLOCKS), data=st.data())
def test_any_offsets_leave_the_text_unchanged_and_count_the_letters_before_each_marker(source, data):
    block = etree.fromstring(source)
    before = etree.tostring(block, encoding="unicode")
    total = letters(_text(block))
    offsets = sorted(data.draw(st.lists(st.integers(0, total + 3), max_size=4)))
    insert_markers(block, _breaks(*offsets), _marker)
    assert _without_markers(block) == before  # markup and text as they were, markers aside
    assert [m.get("page") for m in block.iter("mark")] == [str(n) for n in range(1, len(offsets) + 1)]
    assert [letters(text) for text in _before_each_marker(block)] == [min(o, total) for o in offsets]
    for offset, following in zip(offsets, _after_each_marker(block)):
        if offset < total:  # right before a letter
            assert following[:1].isalnum(), (offset, following)
        else:  # at the very end of the block
            assert following == ""
