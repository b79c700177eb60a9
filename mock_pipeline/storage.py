"""Where the generated Parquet lives besides the local data folder: none (default) or an S3 bucket.

Steps on different machines or pods share no volume when `MOCK_PIPELINE_STORE_URI=s3://bucket[/prefix]`
is set: every step still reads and writes its local `MOCK_PIPELINE_DATA_DIR`, and the store keeps
the folders in step through two calls (see docs/scaling.md, "Storage"). Assets never make them
themselves: the resource's context managers `reading`, `table_writer` and `export_writer` do
(mock_pipeline.resources.DataDirResource), so a new asset cannot forget a step or take them out of order.

- push, after a step wrote a table's Parquet or a shard's part locally (atomically, as always):
  the file goes up to `<prefix>/datasets/<dataset_id>/<domain>/<table>/<file>` with its sha256 as
  object metadata, unless the object already carries that sha256 (an unchanged part is never sent
  twice). A step that replaces a table's layout (unpartitioned table, assembly) also deletes the
  table's other objects, so the store never shows a row twice. An S3 PUT is atomic per object and
  a multipart upload is invisible until complete, so a step failing half-way leaves no object
  that reads as complete (nothing is uploaded before the local file is whole).
- pull, before a step reads a domain's dataset (`DataDirResource.reading()`, `table_writer(reads=…)`): objects missing
  locally or with another sha256 are downloaded (ranged, streamed to a temporary file, checked
  against their sha256, then renamed), and local Parquet files the store no longer lists are
  removed, for the tables the step reads.
- the files export (`<data>/exports/<dataset_id>/<domain>/`) goes the same way as a whole folder:
  `exported_files` pushes it to `<prefix>/exports/<dataset_id>/<domain>/` through
  `publish.s3.upload_export` (a version folder `v-<sha>/`, then the `CURRENT` pointer in one PUT;
  unchanged objects skipped), and its readers (`DataDirResource.export()`) pull it: they follow
  CURRENT, and if that version's manifest differs from the local one, the listed files are
  downloaded (checked against the manifest's sha256) into a staging folder, the manifest last,
  and the folder is swapped in whole, as the export writer does it.

On one machine several steps may share the data folder (multiprocess executor). A writer holds
an exclusive lock on each file it writes until the upload is done, and a pull skips files that
are locked, so it never replaces or deletes a file another step is about to upload. Locks and the
sha256 memo (no need to re-hash an unchanged local file) live in `<dataset>/.store/`.

Credentials are never configured here: boto3 takes them from the environment (AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, a profile or a pod/instance role).
"""

import contextlib
import fcntl
import json
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import boto3
import dagster as dg
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from pydantic import Field

from mock_pipeline.publish.files import MANIFEST
from mock_pipeline.publish.object_store import SHA256_METADATA  # x-amz-meta-sha256, as the export upload writes it
from mock_pipeline.publish.s3 import (
    ENDPOINT_ENV,
    MIB,
    REGION_ENV,
    PublishError,
    S3ObjectStore,
    file_sha256,
    read_current,
    redact_url,
    upload_export,
)
from mock_pipeline.publish.swap import replace_dir
from mock_pipeline.resources import DataDirResource, env_var_if_set
from mock_pipeline.scenarios.model import Scenario

STORE_URI_ENV = "MOCK_PIPELINE_STORE_URI"
STORE_FOLDER = ".store"  # <dataset>/.store/<table>/<file>.lock|.json; hidden from table globs
PARQUET = ".parquet"
DOWNLOAD_ATTEMPTS = 3
# A bucket name as S3 allows it (3-63 lowercase letters, digits, dots and hyphens).
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_ALLOWED_URI = (
    "allowed: s3://<bucket> or s3://<bucket>/<prefix> (bucket: 3-63 lowercase letters, digits, dots, hyphens), "
    "or unset for the local data folder only"
)


class StoreError(ValueError):
    """Bad store configuration or an inconsistent object: one line naming what and what is allowed."""


@dataclass
class SyncReport:
    """What one push or pull did, for the step's log line."""

    direction: str = "uploaded"  # or "downloaded" (a pull)
    uploaded: list[str] = field(default_factory=list)
    downloaded: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)  # objects (push) or local files (pull)
    unchanged: int = 0
    busy: int = 0  # files another local step is writing: left to it
    bytes: int = 0
    absent: bool = False  # a pulled export the store does not hold: the local folder is used as it is

    def line(self, where: str) -> str:
        moved = len(self.downloaded if self.direction == "downloaded" else self.uploaded)
        parts = [
            f"{moved} {self.direction} ({self.bytes:,} bytes)",
            f"{self.unchanged} unchanged",
            f"{len(self.deleted)} removed",
        ]
        if self.busy:
            parts.append(f"{self.busy} left to the local step writing them")
        if self.absent:
            parts.append("no export in the store (no CURRENT), the local folder is used as it is")
        return f"store {where}: " + ", ".join(parts)


# --- the interface and the embedded default -----------------------------------------------------
class DatasetStore:
    """The local data folder only (today's behaviour): nothing to push or pull."""

    kind = "none"

    def uri(self, path: Path) -> str | None:
        return None

    def pull(self, dataset: Path, tables: Iterable[str] | None = None) -> SyncReport:
        return SyncReport()

    def push(self, folder: Path, files: Iterable[str], replace_others: bool = False) -> SyncReport:
        return SyncReport()

    @contextlib.contextmanager
    def writing(self, folder: Path, files: Iterable[str]) -> Iterator[None]:
        yield

    def push_export(self, folder: Path, log: Callable[[str], None] = lambda _: None) -> SyncReport:
        return SyncReport()

    def pull_export(self, folder: Path) -> SyncReport:
        return SyncReport(direction="downloaded")


# --- S3 -----------------------------------------------------------------------------------------
def parse_store_uri(uri: str) -> tuple[str, str]:
    """(bucket, key prefix ending in "/" or empty) of `s3://bucket[/prefix]`, or a StoreError."""
    if not uri.startswith("s3://"):
        raise StoreError(f"{STORE_URI_ENV}: {uri!r} is not an S3 URI; {_ALLOWED_URI}")
    bucket, _, prefix = uri[len("s3://") :].partition("/")
    if not _BUCKET.match(bucket):
        raise StoreError(f"{STORE_URI_ENV}: {bucket!r} in {uri!r} is not a bucket name; {_ALLOWED_URI}")
    segments = [s for s in prefix.split("/") if s] if prefix else []
    if prefix.strip("/") and ("/".join(segments) != prefix.strip("/") or any(s in (".", "..") for s in segments)):
        raise StoreError(
            f"{STORE_URI_ENV}: prefix {prefix!r} in {uri!r} has empty, '.' or '..' segments; {_ALLOWED_URI}"
        )
    return bucket, "".join(f"{s}/" for s in segments)


class S3DatasetStore(DatasetStore):
    """The data folder mirrored in `s3://bucket/prefix/`, key = prefix + path relative to the data root."""

    kind = "s3"

    def __init__(self, root: Path, objects: S3ObjectStore, prefix: str) -> None:
        self.root, self.objects, self.prefix = root, objects, prefix

    @property
    def client(self) -> Any:
        return self.objects.client

    def key(self, path: Path) -> str:
        return self.prefix + path.relative_to(self.root).as_posix()

    def uri(self, path: Path) -> str:
        return self.objects.uri(self.key(path))

    # Local bookkeeping: per-file locks and the sha256 memo, beside (not inside) the table folders.
    def _meta(self, folder: Path, name: str, suffix: str) -> Path:
        return folder.parent / STORE_FOLDER / folder.name / f"{name}{suffix}"

    @contextlib.contextmanager
    def _lock(self, folder: Path, name: str, blocking: bool) -> Iterator[bool]:
        path = self._meta(folder, name, ".lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)  # closing releases the lock

    def _local_sha256(self, path: Path) -> tuple[str, dict[str, Any]]:
        """The file's sha256, re-hashed only if its size or mtime changed since it was last recorded."""
        stat = path.stat()
        memo_path = self._meta(path.parent, path.name, ".json")
        try:
            memo = json.loads(memo_path.read_text())
            if memo["size"] == stat.st_size and memo["mtime_ns"] == stat.st_mtime_ns:
                return memo["sha256"], memo
        except (OSError, ValueError, KeyError):
            pass
        sha = file_sha256(path)
        return sha, {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha, "etag": None}

    def _remember(self, path: Path, sha256: str, etag: str | None) -> None:
        stat = path.stat()
        memo = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha256, "etag": etag}
        memo_path = self._meta(path.parent, path.name, ".json")
        memo_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = memo_path.with_name(f".{memo_path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(memo))
        os.replace(tmp, memo_path)

    def _list(self, prefix: str) -> dict[str, tuple[int, str]]:
        """key -> (size, ETag) of every object under `prefix`."""
        found: dict[str, tuple[int, str]] = {}
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.objects.bucket, Prefix=prefix):
            found.update({o["Key"]: (o["Size"], o["ETag"]) for o in page.get("Contents", [])})
        return found

    def _head(self, key: str) -> tuple[str | None, str]:
        head = self.client.head_object(Bucket=self.objects.bucket, Key=key)
        return head.get("Metadata", {}).get(SHA256_METADATA), head["ETag"]

    # --- push ---------------------------------------------------------------------------------
    @contextlib.contextmanager
    def writing(self, folder: Path, files: Iterable[str]) -> Iterator[None]:
        """Hold the files' locks while a step writes them, so that no local pull touches them."""
        with contextlib.ExitStack() as stack:
            for name in sorted(files):
                stack.enter_context(self._lock(folder, name, blocking=True))
            yield

    def push(self, folder: Path, files: Iterable[str], replace_others: bool = False) -> SyncReport:
        """Upload `folder/<files>` whose object lacks their sha256; with `replace_others`, delete the
        table's other objects (another layout) once the new ones are all up."""
        report = SyncReport()
        names = sorted(files)
        table_prefix = self.key(folder) + "/"
        for name in names:
            path = folder / name
            sha, _ = self._local_sha256(path)
            key = table_prefix + name
            if self.objects.sha256(key) == sha:
                report.unchanged += 1
            else:
                # upload_file goes multipart above the threshold; an upload is invisible until complete.
                self.objects.put(path, key, sha)
                report.uploaded.append(key)
                report.bytes += path.stat().st_size
            self._remember(path, sha, None)
        if replace_others:
            stale = sorted(k for k in self._list(table_prefix) if k[len(table_prefix) :] not in names)
            if stale:
                self.objects.delete(stale)
                report.deleted = stale
        return report

    # --- pull ---------------------------------------------------------------------------------
    def pull(self, dataset: Path, tables: Iterable[str] | None = None) -> SyncReport:
        """Make the local folders of `tables` (default: every table the store holds) match the store."""
        report = SyncReport(direction="downloaded")
        prefix = self.key(dataset) + "/"
        remote: dict[str, dict[str, tuple[int, str]]] = {}
        for key, meta in self._list(prefix).items():
            table, _, name = key[len(prefix) :].partition("/")
            if name.endswith(PARQUET) and "/" not in name:
                remote.setdefault(table, {})[name] = meta
        # A table the store does not hold is left as it is locally (e.g. written before the store was set).
        wanted = sorted(remote) if tables is None else sorted(set(tables) & set(remote))
        for table in wanted:
            folder = dataset / table
            for name, (size, etag) in sorted(remote[table].items()):
                with self._lock(folder, name, blocking=False) as held:
                    if not held:
                        report.busy += 1
                    elif self._current(folder / name, prefix + f"{table}/{name}", size, etag):
                        report.unchanged += 1
                    else:
                        self._remember(folder / name, *self._download(prefix + f"{table}/{name}", folder / name))
                        report.downloaded.append(f"{table}/{name}")
                        report.bytes += size
            for local in sorted(folder.glob(f"*{PARQUET}")):
                if local.name in remote[table]:
                    continue
                with self._lock(folder, local.name, blocking=False) as held:
                    if held:  # another layout the store no longer lists: readers must not see it
                        local.unlink(missing_ok=True)
                        report.deleted.append(f"{table}/{local.name}")
                    else:
                        report.busy += 1
        return report

    def _current(self, path: Path, key: str, size: int, etag: str) -> bool:
        """Whether the local file holds the object's bytes (no request if the memo already says so)."""
        if not path.is_file() or path.stat().st_size != size:
            return False
        sha, memo = self._local_sha256(path)
        if memo.get("etag") == etag and memo.get("sha256") == sha:
            return True
        remote_sha, remote_etag = self._head(key)
        if remote_sha != sha:
            return False
        self._remember(path, sha, remote_etag)
        return True

    def _download(self, key: str, target: Path, sha256: str | None = None) -> tuple[str, str]:
        """Ranged download streamed to a temporary file, checked against `sha256` (default: the
        object's sha256 metadata), then renamed. Returns the file's sha256 and the object's ETag."""
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.download")
        try:
            for _ in range(DOWNLOAD_ATTEMPTS):
                recorded, etag = self._head(key)
                expected = sha256 or recorded
                self.client.download_file(self.objects.bucket, key, str(tmp), Config=self.objects.transfer)
                got = file_sha256(tmp)
                if expected is None or got == expected:
                    os.replace(tmp, target)
                    return got, etag
            # Replaced while being read every time, or not written by this pipeline: never use it half-checked.
            raise StoreError(
                f"{self.objects.uri(key)}: downloaded bytes have sha256 {got}, expected {expected}; "
                "allowed: objects written whole by this pipeline (rerun the step that writes them)"
            )
        finally:
            tmp.unlink(missing_ok=True)

    # --- the files export: a version folder behind CURRENT, the pointer last ---------------------
    def push_export(self, folder: Path, log: Callable[[str], None] = lambda _: None) -> SyncReport:
        """Make `<prefix>/<export folder>/CURRENT` name exactly the local export: the S3 upload's own
        routine (a version folder, files then manifest, then the pointer, older versions collected)."""
        try:
            result = upload_export(folder, self.objects, self.key(folder) + "/", log)
        except PublishError as exc:  # the local export does not match its manifest
            raise StoreError(str(exc)) from None
        return SyncReport(
            uploaded=result.uploaded + result.copied,
            deleted=result.deleted,
            unchanged=len(result.skipped),
            bytes=result.bytes_uploaded,
        )

    def pull_export(self, folder: Path) -> SyncReport:
        """Bring the local export folder to the version the bucket's CURRENT names; left as it is if
        the bucket has none."""
        report = SyncReport(direction="downloaded")
        prefix = self.key(folder) + "/"
        # Waits for a local exported_files writing this folder (it holds the lock until pushed).
        with self._lock(folder, MANIFEST, blocking=True):
            try:
                current = read_current(self.objects, prefix)
            except PublishError as exc:  # a pointer or manifest not written by this pipeline
                raise StoreError(f"{exc}; allowed: an export written whole by exported_files (rerun it)") from None
            if current is None:
                report.absent = True  # not in the store (yet): a push writes CURRENT last
                return report
            raw = current.manifest
            source = current.version_prefix
            local_manifest = folder / MANIFEST
            listed = _export_entries(raw, self.objects.uri(source + MANIFEST))
            # Same manifest and every listed file there at its size: up to date (the S3 upload still
            # checks each file's sha256 before sending it).
            if (
                local_manifest.is_file()
                and local_manifest.read_bytes() == raw
                and all(
                    (folder / path).is_file() and (folder / path).stat().st_size == size for path, size, _ in listed
                )
            ):
                report.unchanged = len(listed) + 1
                return report

            def build(staging: Path) -> None:
                for path, size, sha in listed:
                    local, target = folder / path, staging / path
                    target.parent.mkdir(parents=True, exist_ok=True)
                    if local.is_file() and local.stat().st_size == size and file_sha256(local) == sha:
                        _link_or_copy(local, target)
                        report.unchanged += 1
                    else:
                        self._download(source + path, target, sha)
                        report.downloaded.append(path)
                        report.bytes += size
                (staging / MANIFEST).write_bytes(raw)  # last, as export_domain writes it
                report.downloaded.append(MANIFEST)
                report.bytes += len(raw)

            wanted = {path for path, _, _ in listed} | {MANIFEST}
            if folder.is_dir():
                report.deleted = sorted(
                    p.relative_to(folder).as_posix()
                    for p in folder.rglob("*")
                    if p.is_file() and p.relative_to(folder).as_posix() not in wanted
                )
            # The whole folder is swapped in one rename: a reader sees the old export or the new one.
            replace_dir(folder, build)
        return report


def _export_entries(raw: bytes, where: str) -> list[tuple[str, int, str]]:
    """(path, bytes, sha256) of every file a manifest lists; paths must stay inside the export folder."""
    try:
        entries = [(str(f["path"]), int(f["bytes"]), str(f["sha256"])) for f in json.loads(raw)["files"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise StoreError(
            f"{where}: not an export manifest ({exc}); allowed: manifest.json written by exported_files"
        ) from None
    for path, _, _ in entries:
        parts = path.split("/")
        if path.startswith("/") or any(p in ("", ".", "..") for p in parts) or path == MANIFEST:
            raise StoreError(f"{where}: file path {path!r}; allowed: relative paths inside the export folder")
    return entries


def _link_or_copy(source: Path, target: Path) -> None:
    """An unchanged file into the staging folder: a hard link where the filesystem allows it."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


# --- opening a store from configuration -----------------------------------------------------------
@lru_cache(maxsize=16)
def open_store(root: Path, uri: str | None, endpoint_url: str | None, region: str | None) -> DatasetStore:
    """The store for a data root; the S3 one is checked (URI, bucket reachable) once per process."""
    if not uri:
        return DatasetStore()
    bucket, prefix = parse_store_uri(uri)
    where = f" at {redact_url(endpoint_url)}" if endpoint_url else ""
    config = Config(
        retries={"mode": "standard", "max_attempts": 5},
        s3={"addressing_style": "path"} if endpoint_url else {},
    )
    client = boto3.session.Session().client("s3", endpoint_url=endpoint_url or None, region_name=region, config=config)
    try:
        client.head_bucket(Bucket=bucket)
    except NoCredentialsError:
        raise StoreError(
            f"{STORE_URI_ENV}: no AWS credentials found for s3://{bucket}; allowed: AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY in the environment, an AWS profile, or a pod/instance role"
        ) from None
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code"))
        if code in ("404", "NoSuchBucket", "NotFound"):
            raise StoreError(
                f"{STORE_URI_ENV}: bucket {bucket!r} does not exist{where}; "
                "allowed: an existing bucket (the store never creates one)"
            ) from None
        if code in ("403", "AccessDenied", "Forbidden"):
            raise StoreError(
                f"{STORE_URI_ENV}: access to bucket {bucket!r}{where} denied with the environment's credentials; "
                "allowed: credentials that may list, read, write and delete objects in it"
            ) from None
        raise
    except BotoCoreError as exc:  # endpoint unreachable, bad endpoint URL, ...
        raise StoreError(f"{STORE_URI_ENV}: cannot reach s3://{bucket}{where}: {exc}") from None
    transfer = TransferConfig(multipart_threshold=64 * MIB, multipart_chunksize=16 * MIB, max_concurrency=4)
    # No ACL: the bucket's default (private) applies, and buckets that disable ACLs accept the PUT.
    return S3DatasetStore(root, S3ObjectStore(client, bucket, transfer, acl=None), prefix)


@contextlib.contextmanager
def store_failures(what: str) -> Iterator[None]:
    """Store problems as the step's one clear line: config errors are final, transport errors may retry."""
    try:
        yield
    except StoreError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    except (ClientError, BotoCoreError, Boto3Error) as exc:  # after botocore's own retries
        raise dg.Failure(description=f"{what} failed: {exc}") from None


class StoredDataDirResource(DataDirResource):
    """The data folder, mirrored in an S3 bucket when `store_uri` is set (`MOCK_PIPELINE_STORE_URI`)."""

    store_uri: str | None = Field(
        default=None, description="s3://bucket[/prefix] holding the generated Parquet; unset: local folder only."
    )
    store_endpoint_url: str | None = Field(
        default=None, description="S3 API endpoint (MinIO, moto...); unset: AWS. Credentials come from the environment."
    )
    store_region: str | None = Field(default=None, description="AWS region of the bucket.")

    def store(self) -> DatasetStore:
        with store_failures(f"{STORE_URI_ENV} {self.store_uri}"):
            return open_store(self.path, self.store_uri or None, self.store_endpoint_url or None, self.store_region)

    def dataset(self, scenario: Scenario, domain: str, tables: Iterable[str] | None = None) -> Path:
        """The domain's dataset folder, first brought up to date from the store for `tables` (None: all)."""
        path = super().dataset(scenario, domain)
        store = self.store()  # a bad URI or bucket fails here, before the step writes anything
        tables = None if tables is None else list(tables)
        if store.kind != "none" and (tables is None or tables):
            with store_failures(f"pulling {store.uri(path)}"):
                report = store.pull(path, tables)
            dg.get_dagster_logger().info(report.line(str(store.uri(path))))
        return path

    def _publish(
        self, folder: Path, files: Iterable[str], replace_others: bool = False, log: Callable[[str], None] | None = None
    ) -> None:
        """Upload a table's freshly written files (and with `replace_others`, delete its other objects)."""
        store = self.store()
        if store.kind == "none":
            return
        with store_failures(f"uploading to {store.uri(folder)}"):
            report = store.push(folder, files, replace_others)
        (log or dg.get_dagster_logger().info)(report.line(str(store.uri(folder))))

    @contextlib.contextmanager
    def _writing(self, folder: Path, files: Iterable[str]) -> Iterator[None]:
        """Around a local write: keeps parallel local pulls off the files until they are published
        (and, as the base class, turns a full disk into one line)."""
        with super()._writing(folder, files), self.store().writing(folder, list(files)):
            yield

    def export(self, scenario: Scenario, domain: str, pull: bool = True) -> Path:
        """The domain's files export folder, first brought up to the store's manifest (unless `pull=False`)."""
        path = super().export(scenario, domain)
        store = self.store()
        if pull and store.kind != "none":
            with store_failures(f"pulling {store.uri(path)}"):
                report = store.pull_export(path)
            dg.get_dagster_logger().info(report.line(str(store.uri(path))))
        return path

    def _publish_export(self, folder: Path, log: Callable[[str], None] | None = None) -> None:
        """After export_writer's block wrote `folder`: the files to the store, manifest.json last."""
        store = self.store()
        if store.kind == "none":
            return
        log = log or dg.get_dagster_logger().info
        with store_failures(f"uploading to {store.uri(folder)}"):
            report = store.push_export(folder, log)
        log(report.line(str(store.uri(folder))))


def data_dir_from_env() -> StoredDataDirResource:
    """The data folder resource; the store from MOCK_PIPELINE_STORE_URI (+ endpoint, region) via dg.EnvVar."""
    return StoredDataDirResource(
        store_uri=env_var_if_set(STORE_URI_ENV),
        store_endpoint_url=env_var_if_set(ENDPOINT_ENV),
        store_region=env_var_if_set(REGION_ENV),
    )
