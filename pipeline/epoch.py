"""SOURCE_DATE_EPOCH, the reproducible builds' "now": read where the
no-op rebuild's fingerprint (cache) and the build's timestamp (export) need
it, and set while a PDF is made. Its own module, below every stage, because
both the cache and the exporters depend on it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

# Whoever reads or sets the process's SOURCE_DATE_EPOCH holds this lock, so
# that a build never reads the value another thread's export has set.
_EPOCH = threading.RLock()  # re-entrant: a part laid out in this process sets it again


def source_date_epoch() -> str:
    """The SOURCE_DATE_EPOCH of reproducible builds, as the user gave it ('' if unset)."""
    with _EPOCH:
        return os.environ.get("SOURCE_DATE_EPOCH", "").strip()


@contextmanager
def holding_source_date(timestamp: datetime) -> Iterator[None]:
    """SOURCE_DATE_EPOCH set to the build's timestamp while a PDF is made:
    WeasyPrint rewrites some fonts (colour emoji) with fontTools, which
    stamps them with the current time unless this says otherwise, and reads
    it only from the environment. The environment is the process's, so
    exports in several threads take turns (they share one interpreter lock
    anyway), and the variable is put back as it was. The build's timestamp
    wins over the variable found: it came from the user's own (or the
    book's date) where the build started, and a cluster's worker may have
    another."""
    with _EPOCH:
        previous = os.environ.get("SOURCE_DATE_EPOCH")
        os.environ["SOURCE_DATE_EPOCH"] = str(int(timestamp.timestamp()))
        try:
            yield
        finally:
            if previous is None:
                del os.environ["SOURCE_DATE_EPOCH"]
            else:
                os.environ["SOURCE_DATE_EPOCH"] = previous
