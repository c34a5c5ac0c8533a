"""SOURCE_DATE_EPOCH, the reproducible builds' "now": read where the
no-op rebuild's fingerprint (cache) and the build's timestamp (export) need
it, and given to the fonts a PDF embeds while it is made. Its own module,
below every stage, because both the cache and the exporters depend on it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

# The build's date, in seconds since 1970, for the fonts saved in this
# context (this thread, or this task): `holding_source_date`.
_FONTS_DATE: ContextVar[int | None] = ContextVar("pipeline_fonts_date", default=None)
_INSTALLED = threading.Lock()


def source_date_epoch() -> str:
    """The SOURCE_DATE_EPOCH of reproducible builds, as the user gave it ('' if unset)."""
    return os.environ.get("SOURCE_DATE_EPOCH", "").strip()


@contextmanager
def holding_source_date(timestamp: datetime) -> Iterator[None]:
    """The build's timestamp as the date of the fonts saved while a PDF is
    made. WeasyPrint rewrites some fonts with fontTools (a variable font made
    static, colour emoji without their images), whose `head` table is then
    stamped with the current time, or with SOURCE_DATE_EPOCH, which
    fontTools reads only from the environment. The build writes no
    environment (the process's, shared by every thread and library):
    fontTools' stamp is given the date held here, for this context only, so
    builds in threads each stamp their own. The build's timestamp wins over
    the variable: it came from the user's own (or the book's date) where
    the build started, and a cluster's worker may have another."""
    _install()
    token = _FONTS_DATE.set(int(timestamp.timestamp()))
    try:
        yield
    finally:
        _FONTS_DATE.reset(token)


def _install() -> None:
    """fontTools' `head` table stamped by `_stamp` (once per process)."""
    from fontTools.ttLib.tables import _h_e_a_d

    with _INSTALLED:
        if getattr(_h_e_a_d.timestampNow, "held_by_pipeline", False):
            return
        _h_e_a_d.timestampNow = _stamper(_h_e_a_d.timestampNow)


def _stamper(now):
    """fontTools' `timestampNow` (`now`: seconds since 1904) where no date
    is held; the held date where one is."""
    from fontTools.misc.timeTools import epoch_diff

    def stamp() -> int:
        held = _FONTS_DATE.get()
        return now() if held is None else held - epoch_diff

    stamp.held_by_pipeline = True
    return stamp
