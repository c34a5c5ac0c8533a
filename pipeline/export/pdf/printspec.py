"""What a printer gets, in inches (`PrintSpec`): the book's [print]
settings under its profile (trim, bleed, paper, crop marks), and what follows
from the page count (gutter, padding, spine, cover size). Read by the
interior (`printing`), the cover (`printcover`) and the preflight, which
checks the files against it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...diagnostics import Diagnostic, error
from ...model import PAGE_INCHES, PRINT_PROFILES, BookConfig, PrintProfile, inches, trim_inches


@dataclass(frozen=True)
class PrintSpec:
    """What the printer gets, in inches: from [print] and the profile."""

    profile: PrintProfile
    trim: tuple[float, float]
    bleed: float
    paper: str
    marks: bool

    @property
    def media_bleed(self) -> float:
        """The margin of paper around the trim: the bleed, and with crop marks
        room for them outside it. WeasyPrint draws its marks over the outer
        half of that margin, so three bleeds put them one bleed beyond the
        bleed's edge (where printers want them: never inside the bleed)."""
        return self.bleed * 3 if self.marks else self.bleed

    def gutter(self, pages: int) -> float:
        return next(g for most, g in self.profile.gutters if pages <= most)

    def padded(self, pages: int) -> int:
        """Pages after padding: the profile's minimum, and even (a leaf has two sides)."""
        pages = max(pages, self.profile.min_pages)
        return pages + pages % 2

    def spine(self, pages: int) -> float:
        return pages * self.profile.papers[self.paper]

    def cover_size(self, pages: int) -> tuple[float, float]:
        width, height = self.trim
        return 2 * width + self.spine(pages) + 2 * self.bleed, height + 2 * self.bleed


def print_spec(config: BookConfig) -> tuple[PrintSpec | None, list[Diagnostic]]:
    """The book's [print] settings under its profile; None and an error when
    they do not fit together (a paper the profile lacks, after --print)."""
    profile = PRINT_PROFILES[config.print_profile]
    if config.print_paper not in profile.papers:
        return None, [error("P007", f"the {profile.name} profile has no {config.print_paper!r} paper",
                            hint=f"set [print] paper to one of: {', '.join(profile.papers)}")]
    trim = trim_inches(config.print_trim) if config.print_trim else nearest_trim(profile, config.pdf_page_size)
    marks = config.print_marks and not profile.no_links
    return PrintSpec(profile, trim, inches(config.print_bleed) or 0.0, config.print_paper, marks), []


def nearest_trim(profile: PrintProfile, page_size: str) -> tuple[float, float]:
    """The profile's standard trim closest to the booklet's page size."""
    width, height = PAGE_INCHES[page_size]
    return min(profile.trims, key=lambda t: abs(t[0] - width) + abs(t[1] - height))
