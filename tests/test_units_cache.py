"""Unit tests for `pipeline.cache`: the layout `Store` (an entry is trusted
only as far as its checksum) and the no-op rebuild's fingerprint (what it
covers, what it ignores). No build runs here."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from pipeline import cache
from pipeline.cache import Store, fingerprint, folder_digest

KEY = "0f" * 32


def test_put_then_get_returns_the_data_and_value(tmp_path):
    store = Store(tmp_path / "layout")  # created on first put
    store.put(KEY, b"%PDF-1.7 bytes\x00\xff", {"pages": 12, "anchors": {"a": 3}})
    assert store.get(KEY) == (b"%PDF-1.7 bytes\x00\xff", {"pages": 12, "anchors": {"a": 3}})
    store.put(KEY, b"", {})  # an entry may be replaced, and may be empty
    assert store.get(KEY) == (b"", {})


def test_missing_entries_read_as_missing(tmp_path):
    assert Store(tmp_path / "never-made").get(KEY) is None
    store = Store(tmp_path)
    store.put(KEY, b"data", {"n": 1})
    assert store.get("1e" * 32) is None
    (tmp_path / f"{KEY}.bin").unlink()  # record without data
    assert store.get(KEY) is None
    store.put(KEY, b"data", {"n": 1})
    (tmp_path / f"{KEY}.json").unlink()  # data without record
    assert store.get(KEY) is None


@pytest.mark.parametrize("damage", [
    lambda folder: (folder / f"{KEY}.bin").write_bytes(b"DATA"),  # same length, other bytes
    lambda folder: (folder / f"{KEY}.bin").write_bytes(b"da"),  # truncated
    lambda folder: (folder / f"{KEY}.bin").write_bytes(b"data and more"),
    lambda folder: (folder / f"{KEY}.json").write_text('{"sha256": "', encoding="utf-8"),  # truncated record
    lambda folder: (folder / f"{KEY}.json").write_bytes(b"\xff\xfe not utf-8"),
    lambda folder: (folder / f"{KEY}.json").write_text("[1, 2]", encoding="utf-8"),
    lambda folder: (folder / f"{KEY}.json").write_text("null", encoding="utf-8"),
    lambda folder: (folder / f"{KEY}.json").write_text('{"value": {"n": 1}}', encoding="utf-8"),  # no checksum
    lambda folder: (folder / f"{KEY}.json").write_text(  # checksum right, value missing
        json.dumps({"sha256": json.loads((folder / f"{KEY}.json").read_text())["sha256"]}), encoding="utf-8"),
], ids=["changed", "truncated", "extended", "record-truncated", "record-not-utf8", "record-list",
        "record-null", "record-no-checksum", "record-no-value"])
def test_a_damaged_entry_is_never_trusted(tmp_path, damage):
    store = Store(tmp_path)
    store.put(KEY, b"data", {"n": 1})
    damage(tmp_path)
    assert store.get(KEY) is None


def test_data_of_one_put_with_the_record_of_another_is_not_trusted(tmp_path):
    """A put killed between its two writes leaves new data beside the old
    record (or the reverse): the pair reads as missing, never as a mix."""
    store = Store(tmp_path)
    store.put(KEY, b"old layout", {"pages": 1})
    old_record = (tmp_path / f"{KEY}.json").read_bytes()
    store.put(KEY, b"new layout", {"pages": 2})
    (tmp_path / f"{KEY}.json").write_bytes(old_record)
    assert store.get(KEY) is None


def test_writes_are_atomic_and_a_failed_write_is_harmless(tmp_path, monkeypatch):
    store = Store(tmp_path)
    store.put(KEY, b"old", {"v": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{KEY}.bin", f"{KEY}.json"]  # no temporary left

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    store.put(KEY, b"new", {"v": 2})  # does not raise: a cache that cannot be written is harmless
    monkeypatch.undo()
    assert store.get(KEY) == (b"old", {"v": 1})  # the previous entry, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{KEY}.bin", f"{KEY}.json"]
    blocked = tmp_path / "a-file"
    blocked.write_bytes(b"")
    Store(blocked).put(KEY, b"x", {})  # the folder cannot even be made
    assert Store(blocked).get(KEY) is None


def test_keep_only_deletes_other_entries_and_nothing_else(tmp_path):
    store = Store(tmp_path)
    for key in ("a1", "b2", "c3"):
        store.put(key, key.encode(), {"k": key})
    (tmp_path / "notes.txt").write_text("not an entry", encoding="utf-8")
    store.keep_only({"b2"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b2.bin", "b2.json", "notes.txt"]
    assert store.get("b2") == (b"b2", {"k": "b2"})
    Store(tmp_path / "missing").keep_only(set())  # no folder: nothing to do, no error


# ---------------------------------------------------------------- fingerprint


@pytest.fixture
def folder(tmp_path) -> Path:
    root = tmp_path / "book"
    (root / "images").mkdir(parents=True)
    (root / "book.toml").write_text('title = "T"\n', encoding="utf-8")
    (root / "01-one.md").write_text("# One\n\nText.\n", encoding="utf-8")
    (root / "images" / "a.png").write_bytes(b"\x89PNG fake")
    return root


@pytest.fixture
def epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


def test_fingerprint_changes_with_any_file_s_content_name_or_presence(folder, epoch):
    options = {"formats": ["epub", "pdf"]}
    seen = {fingerprint(folder, options)}

    def changed() -> bool:
        key = fingerprint(folder, options)
        new = key not in seen
        seen.add(key)
        return new

    (folder / "01-one.md").write_text("# One\n\nText!\n", encoding="utf-8")
    assert changed()
    (folder / "images" / "a.png").write_bytes(b"\x89PNG Fake")
    assert changed()
    (folder / "images" / "a.png").rename(folder / "images" / "b.png")
    assert changed()
    (folder / "images" / "b.png").rename(folder / "b.png")  # same name, other folder
    assert changed()
    (folder / "02-two.md").write_text("", encoding="utf-8")  # an empty file is a file
    assert changed()
    (folder / "02-two.md").unlink()
    assert not changed()  # back to a state seen before: the same key


def test_fingerprint_changes_with_options_version_and_epoch(folder, monkeypatch, epoch):
    key = fingerprint(folder, {"strict": False})
    assert fingerprint(folder, {"strict": True}) != key
    assert fingerprint(folder, {"strict": False, "book": "/elsewhere"}) != key
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000001")
    assert fingerprint(folder, {"strict": False}) != key
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert fingerprint(folder, {"strict": False}) == key
    assert fingerprint(folder, {"strict": False, "version": "0.0.0-other"}) != key  # the build passes its version


def test_the_build_keys_its_no_op_with_the_tools_version(tmp_path, monkeypatch):
    import importlib

    from pipeline import build

    building = importlib.import_module("pipeline.build")  # the module (the package's `build` is its function)

    book = tmp_path / "book"
    book.mkdir()
    (book / "a.md").write_text("# A\n\nText.\n", encoding="utf-8")
    build(book, tmp_path / "out", formats=("epub",))
    assert build(book, tmp_path / "out", formats=("epub",)).up_to_date
    monkeypatch.setattr(building, "VERSION", "0.0.0-other")  # (model.VERSION, as the build reads it)
    assert not build(book, tmp_path / "out", formats=("epub",)).up_to_date


def test_fingerprint_covers_the_styles_folder(tmp_path, folder, monkeypatch, epoch):
    styles = tmp_path / "styles"
    shutil.copytree(cache.styles_dir(), styles, ignore=shutil.ignore_patterns("fonts"))
    monkeypatch.setattr(cache, "styles_dir", lambda: styles)
    key = fingerprint(folder, {})
    css = styles / "print.css"
    css.write_text(css.read_text(encoding="utf-8") + "\n/* changed */\n", encoding="utf-8")
    assert fingerprint(folder, {}) != key


def test_fingerprint_ignores_times_location_empty_folders_and_option_order(tmp_path, folder, epoch):
    key = fingerprint(folder, {"a": 1, "b": [2]})
    assert fingerprint(folder, {"b": [2], "a": 1}) == key
    os.utime(folder / "01-one.md", (0, 0))  # touched, not changed
    (folder / "empty-folder").mkdir()
    assert fingerprint(folder, {"a": 1, "b": [2]}) == key
    moved = shutil.copytree(folder, tmp_path / "elsewhere" / "copy")  # the book's path is an option, not part of this
    assert fingerprint(moved, {"a": 1, "b": [2]}) == key


def test_a_link_out_of_the_book_is_hashed_by_where_it_points_never_read(tmp_path, folder):
    secret = tmp_path / "secret.txt"
    secret.write_text("first", encoding="utf-8")
    (folder / "leak.md").symlink_to(secret)
    digest = folder_digest(folder)
    secret.write_text("second", encoding="utf-8")  # its content is not part of the digest...
    assert folder_digest(folder) == digest
    other = tmp_path / "other.txt"
    other.write_text("first", encoding="utf-8")
    (folder / "leak.md").unlink()
    (folder / "leak.md").symlink_to(other)  # ...where it points is
    assert folder_digest(folder) != digest


def test_the_no_op_key_follows_the_pipelines_code(tmp_path, folder, monkeypatch, epoch):
    """A pulled or edited pipeline at the same version builds again (it said 'up to date')."""
    key = fingerprint(folder, {})
    assert fingerprint(folder, {}) == key
    monkeypatch.setattr(cache, "code_digest", lambda: "0" * 64)
    assert fingerprint(folder, {}) != key
