"""The object stores an S3 upload writes to (the transfer client), behind one interface.

Two stores: a local folder laid out exactly as the bucket would be (`<data>/s3/<bucket>/<key>`, the
embedded default) and a real bucket through a boto3 client (retries, multipart uploads for large
files, an ACL). Every object carries its sha256 as user metadata, so an upload can skip what is
already there. The version-folder layout, the CURRENT pointer and garbage collection that use these
stores live in publish/s3.py.
"""

import hashlib
import mimetypes
import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

SHA256_METADATA = "sha256"  # x-amz-meta-sha256
MIB = 1024 * 1024
_CONTENT_TYPES = {".csv": "text/csv", ".ndjson": "application/x-ndjson", ".parquet": "application/vnd.apache.parquet"}


@dataclass(frozen=True)
class StoredObject:
    size: int
    modified: float  # seconds since the epoch: when the object was last written


class ObjectStore(ABC):
    """The few object operations an upload needs, over a bucket or a local folder."""

    kind: str

    @abstractmethod
    def uri(self, key: str = "") -> str: ...

    @abstractmethod
    def list(self, prefix: str) -> dict[str, StoredObject]:
        """Every object under `prefix`: key -> size and time written."""

    @abstractmethod
    def sha256(self, key: str) -> str | None:
        """The sha256 recorded for an object, None if it has none."""

    @abstractmethod
    def get(self, key: str) -> bytes | None:
        """An object's bytes, None if there is no such object."""

    @abstractmethod
    def put(self, path: Path, key: str, sha256: str) -> None: ...

    @abstractmethod
    def put_bytes(self, data: bytes, key: str) -> None:
        """A small object (the pointer) in one atomic write, its sha256 recorded."""

    @abstractmethod
    def copy(self, source_key: str, key: str, sha256: str, size: int) -> None:
        """An object already in the store, under another key (no bytes sent from here)."""

    @abstractmethod
    def delete(self, keys: Iterable[str]) -> None: ...


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(MIB), b""):
            digest.update(block)
    return digest.hexdigest()


def link_or_copy(source: Path, target: Path) -> None:
    """A hard link of `source` at `target` (no second copy of the bytes on disk), or a copy where a
    link is impossible (another filesystem, or one without hard links).

    Safe for the export's files: publish/files.py never rewrites a file in place, it writes a new
    folder and swaps it in, so a linked object keeps the bytes it was uploaded with."""
    try:
        os.link(source, target)
    except OSError:  # EXDEV across filesystems; EPERM/ENOTSUP/EMLINK where links are refused
        shutil.copyfile(source, target)


class LocalObjectStore(ObjectStore):
    """A bucket as a folder: `<root>/<key>`, written atomically file by file (temp file, rename).
    Objects are hard links of the uploaded files where the filesystem allows, copies otherwise."""

    kind = "local"

    def __init__(self, root: Path) -> None:
        self.root = root
        # Temp files live beside the bucket folder so a listing never shows a half-written object.
        self._tmp = root.parent / f".{root.name}.tmp"

    def uri(self, key: str = "") -> str:
        return (self.root / key).as_uri() + ("/" if key.endswith("/") or not key else "")

    def list(self, prefix: str) -> dict[str, StoredObject]:
        base = self.root / prefix
        if not base.is_dir():
            return {}
        found = {}
        for p in base.rglob("*"):
            if p.is_file():
                stat = p.stat()
                # A hard link keeps the export file's mtime; linking it here set its ctime.
                found[p.relative_to(self.root).as_posix()] = StoredObject(
                    stat.st_size, max(stat.st_mtime, stat.st_ctime)
                )
        return found

    def sha256(self, key: str) -> str | None:
        path = self.root / key
        return file_sha256(path) if path.is_file() else None

    def get(self, key: str) -> bytes | None:
        path = self.root / key
        return path.read_bytes() if path.is_file() else None

    def _replace(self, key: str, write: Callable[[Path], None]) -> None:
        """`write` a temp file beside the bucket, then rename it to the key: never half an object."""
        target = self.root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        self._tmp.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=self._tmp)) / "object"
        try:
            write(tmp)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
            tmp.parent.rmdir()

    def put(self, path: Path, key: str, sha256: str) -> None:
        self._replace(key, lambda tmp: link_or_copy(path, tmp))

    def put_bytes(self, data: bytes, key: str) -> None:
        self._replace(key, lambda tmp: tmp.write_bytes(data))

    def copy(self, source_key: str, key: str, sha256: str, size: int) -> None:
        self._replace(key, lambda tmp: link_or_copy(self.root / source_key, tmp))

    def delete(self, keys: Iterable[str]) -> None:
        for key in keys:
            path = self.root / key
            path.unlink(missing_ok=True)
            # A bucket has no empty folders: remove the ones a deletion leaves behind.
            parent = path.parent
            while parent != self.root and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent


class S3ObjectStore(ObjectStore):
    """A real bucket through a boto3 client (retries are the client's: botocore standard mode)."""

    kind = "s3"

    def __init__(self, client: Any, bucket: str, transfer: TransferConfig, acl: str | None = "private") -> None:
        self.client, self.bucket, self.transfer, self.acl = client, bucket, transfer, acl

    def uri(self, key: str = "") -> str:
        return f"s3://{self.bucket}/{key}"

    def list(self, prefix: str) -> dict[str, StoredObject]:
        found: dict[str, StoredObject] = {}
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            found.update(
                {o["Key"]: StoredObject(o["Size"], o["LastModified"].timestamp()) for o in page.get("Contents", [])}
            )
        return found

    def sha256(self, key: str) -> str | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return head.get("Metadata", {}).get(SHA256_METADATA)

    def get(self, key: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def _extra(self, sha256: str, path: Path) -> dict[str, Any]:
        extra: dict[str, Any] = {"Metadata": {SHA256_METADATA: sha256}, "ContentType": content_type(path)}
        if self.acl:
            extra["ACL"] = self.acl
        return extra

    def put(self, path: Path, key: str, sha256: str) -> None:
        # upload_file switches to a multipart upload above the threshold, parts in parallel.
        self.client.upload_file(str(path), self.bucket, key, ExtraArgs=self._extra(sha256, path), Config=self.transfer)

    def put_bytes(self, data: bytes, key: str) -> None:
        extra = {**self._extra(hashlib.sha256(data).hexdigest(), Path(key)), "ContentType": "application/json"}
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, **extra)

    def copy(self, source_key: str, key: str, sha256: str, size: int) -> None:
        # A server-side copy; the metadata is set again, not inherited.
        extra = {**self._extra(sha256, Path(key)), "MetadataDirective": "REPLACE"}
        source = {"Bucket": self.bucket, "Key": source_key}
        if size < self.transfer.multipart_threshold:  # one request (the managed copy HEADs the source first)
            self.client.copy_object(Bucket=self.bucket, Key=key, CopySource=source, **extra)
        else:  # CopyObject stops at 5 GiB: the managed copy goes multipart
            self.client.copy(source, self.bucket, key, ExtraArgs=extra, Config=self.transfer)

    def delete(self, keys: Iterable[str]) -> None:
        batch = list(keys)
        for i in range(0, len(batch), 1000):  # DeleteObjects takes at most 1000 keys
            objects = [{"Key": k} for k in batch[i : i + 1000]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True})


def content_type(path: Path) -> str:
    if path.suffix == ".gz":
        return "application/gzip"
    return _CONTENT_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
