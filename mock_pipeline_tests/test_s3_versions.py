"""S3 upload over the local store, no dataset and no server: version folders behind CURRENT, a
crash half-way, copies of unchanged files, garbage collection, hard links, a corrupt export.

The export folders are made by hand (`write_export`); the expected layout is computed independently
(mock_pipeline_tests/s3_layout.py).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

import pytest

from mock_pipeline.publish.object_store import LocalObjectStore, ObjectStore, StoredObject
from mock_pipeline.publish.s3 import PublishError, read_current, upload_export
from mock_pipeline_tests.s3_layout import layout, sha256, version, write_export

pytestmark = pytest.mark.integration


class FailingStore(ObjectStore):
    """Wraps a store and fails on putting one key: a crash half-way through an upload."""

    def __init__(self, inner: ObjectStore, fail_key: str) -> None:
        self.inner, self.fail_key, self.kind = inner, fail_key, inner.kind

    def uri(self, key: str = "") -> str:
        return self.inner.uri(key)

    def list(self, prefix: str) -> dict[str, StoredObject]:
        return self.inner.list(prefix)

    def sha256(self, key: str) -> str | None:
        return self.inner.sha256(key)

    def get(self, key: str) -> bytes | None:
        return self.inner.get(key)

    def put(self, path: Path, key: str, sha256: str) -> None:
        if key.endswith(self.fail_key):
            raise OSError("disk full (simulated)")
        self.inner.put(path, key, sha256)

    def put_bytes(self, data: bytes, key: str) -> None:
        self.inner.put_bytes(data, key)

    def copy(self, source_key: str, key: str, sha256: str, size: int) -> None:
        self.inner.copy(source_key, key, sha256, size)

    def delete(self, keys: Iterable[str]) -> None:
        self.inner.delete(keys)


def reader_sees(store: ObjectStore, prefix: str) -> dict[str, bytes]:
    """What a reader following CURRENT reads: every file of the version it names, by path."""
    current = read_current(store, prefix)
    assert current is not None
    return {f.path: store.get(current.version_prefix + f.path) for f in current.files}


def test_changed_dataset_is_never_complete_half_way(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "s3" / "bucket")
    prefix = "datasets/x/commerce/"
    v1 = write_export(tmp_path / "e1", {"a.csv": b"a,1\n", "b.csv": b"b,1\n", "gone.csv": b"old\n"})
    upload_export(v1, store, prefix)
    assert set(store.list(prefix)) == layout(prefix, v1)
    first = reader_sees(store, prefix)
    assert first == {n: (v1 / n).read_bytes() for n in ("a.csv", "b.csv", "gone.csv")}

    v2 = write_export(tmp_path / "e2", {"a.csv": b"a,1\n", "b.csv": b"b,2 changed\n"})
    with pytest.raises(OSError, match="simulated"):
        upload_export(v2, FailingStore(store, "b.csv"), prefix)
    assert reader_sees(store, prefix) == first  # the previous export, whole, as if nothing happened

    result = upload_export(v2, store, prefix)  # the re-run resumes: a.csv was copied before the crash
    new = prefix + version(v2)
    assert result.uploaded == [new + "b.csv", new + "manifest.json", prefix + "CURRENT"]
    assert result.skipped == [new + "a.csv"] and result.copied == [] and result.deleted == []
    assert reader_sees(store, prefix) == {n: (v2 / n).read_bytes() for n in ("a.csv", "b.csv")}
    # The previous version stays for readers who read CURRENT just before it moved.
    assert set(store.list(prefix)) == layout(prefix, v1) | layout(prefix, v2)


def test_unchanged_files_of_a_new_version_are_copied_in_the_store_not_sent(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "s3" / "bucket")
    v1 = write_export(tmp_path / "e1", {"a.csv": b"a,1\n", "b.csv": b"b,1\n"})
    upload_export(v1, store, "p/")
    v2 = write_export(tmp_path / "e2", {"a.csv": b"a,1\n", "b.csv": b"b,2\n"})
    result = upload_export(v2, store, "p/")
    new = "p/" + version(v2)
    assert result.copied == [new + "a.csv"]
    assert result.uploaded == [new + "b.csv", new + "manifest.json", "p/CURRENT"]
    assert result.bytes_uploaded == len(b"b,2\n") + len((v2 / "manifest.json").read_bytes()) + len(
        store.get("p/CURRENT") or b""
    )
    assert reader_sees(store, "p/") == {"a.csv": b"a,1\n", "b.csv": b"b,2\n"}


def test_versions_two_back_orphans_and_the_old_layout_are_collected(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "s3" / "bucket")
    exports = [write_export(tmp_path / f"e{i}", {"a.csv": f"a,{i}\n".encode()}) for i in range(3)]
    # Objects of the layout before versions, straight under the prefix.
    store.put(exports[0] / "a.csv", "p/a.csv", sha256(b"a,0\n"))
    store.put(exports[0] / "manifest.json", "p/manifest.json", sha256((exports[0] / "manifest.json").read_bytes()))
    first = upload_export(exports[0], store, "p/")
    assert sorted(first.deleted) == ["p/a.csv", "p/manifest.json"]  # CURRENT written first, then they go
    upload_export(exports[1], store, "p/")
    assert set(store.list("p/")) == layout("p/", exports[0]) | layout("p/", exports[1])  # previous kept

    # A version folder no pointer named: a dead run's leftover, or a live run about to point to it.
    orphan = "p/v-00000000deadbeef/"
    store.put(exports[2] / "a.csv", orphan + "a.csv", sha256(b"a,2\n"))
    third = upload_export(exports[2], store, "p/")
    assert third.deleted == ["p/" + version(exports[0]) + "manifest.json", "p/" + version(exports[0]) + "a.csv"]
    assert set(store.list("p/")) == layout("p/", exports[1]) | layout("p/", exports[2]) | {orphan + "a.csv"}
    again = upload_export(exports[2], store, "p/", orphan_grace_seconds=0)  # once it is old enough
    assert again.uploaded == [] and again.deleted == [orphan + "a.csv"]
    assert json.loads(store.get("p/CURRENT") or b"")["previous"] == version(exports[1])


def test_local_objects_are_links_of_the_export_not_second_copies(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "s3" / "bucket")
    export = write_export(tmp_path / "export", {"a.csv": b"a,1\n", "b.csv": b"b,2\n"})
    upload_export(export, store, "p/")
    first = version(export)
    for name in ("a.csv", "b.csv", "manifest.json"):
        source, stored = export / name, store.root / "p" / first / name
        assert stored.read_bytes() == source.read_bytes()
        assert stored.stat().st_ino == source.stat().st_ino  # one inode: the bytes are on disk once
        assert source.stat().st_nlink == 2
    assert not list((tmp_path / "s3" / ".bucket.tmp").iterdir())  # no temp leftovers

    # The next export is a new folder swapped in (publish/files.py): the objects keep the old bytes.
    old = store.root / "p" / first / "a.csv"
    shutil.rmtree(export)
    export = write_export(tmp_path / "export", {"a.csv": b"a,changed\n"})
    assert old.read_bytes() == b"a,1\n"
    upload_export(export, store, "p/")
    assert old.read_bytes() == b"a,1\n"  # the previous version, intact for its readers
    assert (store.root / "p" / version(export) / "a.csv").read_bytes() == b"a,changed\n"


def test_corrupt_export_is_refused_naming_its_first_bad_file_before_any_upload(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "s3" / "bucket")
    export = write_export(tmp_path / "export", {f"t{i}.csv": f"row {i}\n".encode() for i in range(8)})
    (export / "t3.csv").write_bytes(b"row X\n")  # same size, other bytes
    (export / "t6.csv").write_bytes(b"row 6 and more\n")
    with pytest.raises(PublishError, match=r"is corrupt: t3\.csv does not match its manifest entry"):
        upload_export(export, store, "p/")
    assert store.list("p/") == {}


def test_local_objects_are_copies_where_links_are_impossible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def cross_device(source: object, target: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", cross_device)
    store = LocalObjectStore(tmp_path / "s3" / "bucket")
    export = write_export(tmp_path / "export", {"a.csv": b"a,1\n"})
    upload_export(export, store, "p/")
    for name in ("a.csv", "manifest.json"):
        stored = store.root / "p" / version(export) / name
        assert stored.read_bytes() == (export / name).read_bytes()
        assert stored.stat().st_ino != (export / name).stat().st_ino
