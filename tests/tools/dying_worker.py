"""A `dask worker --preload` for tests/test_cluster.py: a worker that dies
on its booklet tasks, the way a worker killed by the out-of-memory killer
or a lost machine does (the process ends mid-task, no exception).

PIPELINE_TEST_DIE_ONCE=FILE: the first booklet task this worker takes while
FILE does not exist, it writes the article's slug to FILE and dies.
PIPELINE_TEST_DIE_ON=SLUG: it dies each time it takes that article's booklet.
"""

import os
from pathlib import Path

from pipeline.export import booklets

# Dask may import a preload more than once: wrap the real function, never our own wrapper.
_make_booklet = getattr(booklets, "_real_make_booklet", booklets.make_booklet)
booklets._real_make_booklet = _make_booklet


def make_booklet(booklet):
    slug = booklet.rendered.book.slug
    if slug == os.environ.get("PIPELINE_TEST_DIE_ON"):
        os._exit(3)
    marker = os.environ.get("PIPELINE_TEST_DIE_ONCE")
    if marker and not Path(marker).exists():
        Path(marker).write_text(slug, encoding="utf-8")
        os._exit(3)
    return _make_booklet(booklet)


booklets.make_booklet = make_booklet  # tasks name it by module and name: the worker finds this one
