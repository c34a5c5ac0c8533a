"""A figure that does not fit at the foot of a page: shrink it, or let text pass it.

CSS keeps a figure whole (`break-inside: avoid`), so one that does not fit
in the room left on a page moves to the next one and leaves the room empty:
a third of a page, sometimes more. WeasyPrint has no `float: page` to let
the following text fill that room, so the layout is done again (a second
pass, as the page numbers are: `engine.layout`) with each such figure
changed on the parsed document:

- shrunk to the room left, if its picture keeps at least `MIN_SCALE` of
  its height there (its proportions kept, its caption as it was);
- else, when the room is more than `MOVE_ROOM` of the page, moved after the
  next block of text, which then fills the room (a figure "floats" as in
  a printed book: its caption and number go with it).

The decision reads WeasyPrint's page boxes, as `engine` does; the moved
figures go back to their places in the tree once laid out, so that what
is read from the tree afterwards (page breaks by block order: pagebreaks.py)
sees the source's order, which the EPUB has.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_SCALE = 0.70  # a figure shrinks to 70 % of its height at most
MOVE_ROOM = 0.25  # of the page's height: less room than this is left as it is
SLACK = 2.0  # CSS px kept free below a shrunk figure (rounding in the next layout)
MAX_PASSES = 2


@dataclass(frozen=True)
class Misfit:
    """A figure that opens a page, and the room its previous page left."""

    figure: object  # the <figure> element of the parsed document
    image: object  # its <img> element
    scale: float  # the picture's height that fits in the room, over its height
    width: float  # the picture's laid-out size, CSS px
    height: float
    room: float  # the room left, as a fraction of the page's height


def misfits(document) -> list[Misfit]:
    """The figures that begin a page while the page before left room."""
    from weasyprint.formatting_structure import boxes

    found = []
    for index in range(1, len(document.pages)):
        page = document.pages[index]._page_box
        for figure in _figures(page, boxes):
            if _first_on_page(page, figure, boxes):
                misfit = _measured(document.pages[index - 1]._page_box, figure, boxes)
                if misfit is not None:
                    found.append(misfit)
    return found


def _measured(previous, figure, boxes) -> Misfit | None:
    image = next(_images(figure, boxes), None)
    if image is None or not image.height:
        return None
    area_top = previous.content_box_y()
    area_bottom = area_top + previous.height
    notes = [child for child in previous.children if isinstance(child, boxes.FootnoteAreaBox) and child.children]
    if notes:
        area_bottom = min(note.position_y for note in notes)
    used = max((bottom for bottom in _bottoms(previous, boxes)), default=area_top)
    margin = max(figure.margin_top, figure.margin_bottom)
    room = area_bottom - used - margin
    fits = room - (figure.border_height() - image.height) - SLACK
    return Misfit(figure.element, image.element, fits / image.height, image.width, image.height,
                  room / previous.height)


def plan(found: list[Misfit]) -> tuple[list[Misfit], list[Misfit]]:
    """(the figures to shrink, the figures to move)."""
    shrink = [misfit for misfit in found if MIN_SCALE <= misfit.scale < 1]
    move = [misfit for misfit in found if misfit.scale < MIN_SCALE and misfit.room > MOVE_ROOM]
    return shrink, move


def shrink(misfit: Misfit) -> None:
    """Its picture set to the size that fits, both sides (proportions kept)."""
    width, height = misfit.width * misfit.scale, misfit.height * misfit.scale
    style = (misfit.image.get("style") or "").rstrip("; ")
    misfit.image.set("style", f"{style + '; ' if style else ''}width: {width:.3f}px; height: {height:.3f}px; "
                              "max-width: none; max-height: none")


def move(misfit: Misfit, parents: dict) -> tuple | None:
    """Put the figure after the next block; return how to put it back."""
    figure = misfit.figure
    parent = parents.get(figure)
    if parent is None:
        return None
    position = list(parent).index(figure)
    following = parent[position + 1] if position + 1 < len(parent) else None
    if following is None or not isinstance(following.tag, str) or following.tag == "figure":
        return None
    tail, figure.tail = figure.tail, None
    parent.remove(figure)
    parent.insert(position + 1, figure)
    return parent, figure, position, tail


def put_back(moved: list[tuple]) -> None:
    for parent, figure, position, tail in reversed(moved):
        parent.remove(figure)
        parent.insert(position, figure)
        figure.tail = tail


def _figures(box, boxes):
    for child in getattr(box, "children", ()):
        if isinstance(child, (boxes.MarginBox, boxes.FootnoteAreaBox)):
            continue
        if child.element_tag == "figure" and isinstance(child, boxes.BlockBox):
            yield child
        else:
            yield from _figures(child, boxes)


def _images(box, boxes):
    for child in getattr(box, "children", ()):
        if isinstance(child, boxes.ReplacedBox) and child.element_tag == "img":
            yield child
        else:
            yield from _images(child, boxes)


def _first_on_page(page, figure, boxes) -> bool:
    """Nothing of the text stands above the figure on its page."""
    return all(top >= figure.position_y - 0.5 for top in _tops(page, boxes))


def _content(box, boxes):
    """Lines and pictures of the page's text, margin boxes and notes aside."""
    for child in getattr(box, "children", ()):
        if isinstance(child, (boxes.MarginBox, boxes.FootnoteAreaBox)):
            continue
        if isinstance(child, (boxes.LineBox, boxes.ReplacedBox)):
            yield child
        else:
            yield from _content(child, boxes)


def _tops(page, boxes):
    return (line.position_y for line in _content(page, boxes))


def _bottoms(page, boxes):
    return (line.position_y + line.margin_height() for line in _content(page, boxes))
