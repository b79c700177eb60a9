"""S3 upload of a domain's files export (seed 002's `s3://bucket/datasets/generation_<timestamp>/`).

What goes up is exactly the `[domain, exported_files]` folder. A reader sees the previous export
or the whole new one at every instant, because nothing a reader follows is ever half-written:

    <prefix>/<domain>/CURRENT                   the pointer: one small JSON object, one PUT, written last
    <prefix>/<domain>/v-<sha256[:16]>/...       one complete export: its files, then its manifest.json

A version folder is named by the sha256 of its manifest (which lists every file's sha256), so its
objects never change once written. An upload fills the new version folder (files first, manifest
last), then replaces CURRENT in one PUT (atomic in S3: a reader gets the old object or the new one).
Readers GET CURRENT, then read the version it names (`read_current`). A crash anywhere leaves
CURRENT naming the previous, complete version.

Idempotency: the key prefix is derived from the scenario, never from the wall clock: `{timestamp}`
is the dataset's as-of moment (the last second of its window) and `{fingerprint}` the hash of the
config that decides its bytes, so the same dataset always lands under the same keys. Every object
carries its sha256 as user metadata; an object already there with that sha256 is not sent again
(a rerun of an unchanged export uploads nothing, a rerun after a crash resumes), and a file that
the current version already holds with the same sha256 is copied inside the bucket, not re-sent.

Garbage collection, after CURRENT moved: the previous version is kept (a reader that read CURRENT
just before it moved can finish reading), the one before it is deleted, and so are objects of the
layout before versions. Version folders no pointer ever named (a crashed run's, or a concurrent
run's still being written) are deleted only once their newest object is older than
`ORPHAN_GRACE_SECONDS`, so a run never deletes a version another run is about to point to.

Two stores share one interface (publish/object_store.py): a local folder laid out exactly as the bucket would be
(`<data>/s3/<bucket>/<key>`, the embedded default) and a real bucket through
`dagster_aws.s3.S3Resource` (boto3 with retries, multipart uploads for large files, private ACL).
"""

import hashlib
import json
import os
import string
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import dagster as dg
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError
from dagster_aws.s3 import S3Resource
from pydantic import Field

from mock_pipeline.domains.factory import OWNERS, Domain
from mock_pipeline.publish.files import MANIFEST
from mock_pipeline.publish.object_store import (
    MIB,
    LocalObjectStore,
    ObjectStore,
    S3ObjectStore,
    file_sha256,
)
from mock_pipeline.publish.scrubbing import scrub
from mock_pipeline.resources import DataDirResource, ScenarioResource, env_var_if_set
from mock_pipeline.scenarios.model import Scenario

# Environment variables (README): the bucket switches from the local folder to a real bucket.
BUCKET_ENV = "MOCK_PIPELINE_S3_BUCKET"
PREFIX_ENV = "MOCK_PIPELINE_S3_PREFIX"
ENDPOINT_ENV = "MOCK_PIPELINE_S3_ENDPOINT_URL"
# "" sends no ACL: buckets whose Object Ownership disables ACLs refuse any, and keep objects private.
ACL_ENV = "MOCK_PIPELINE_S3_ACL"
# boto3's own names, so an existing AWS setup works unchanged.
REGION_ENV = "AWS_REGION"
ACCESS_KEY_ENV = "AWS_ACCESS_KEY_ID"
SECRET_KEY_ENV = "AWS_SECRET_ACCESS_KEY"
SESSION_TOKEN_ENV = "AWS_SESSION_TOKEN"

DEFAULT_PREFIX = "datasets/generation_{timestamp}_{fingerprint}"
DEFAULT_LOCAL_BUCKET = "mock-pipeline"
LOCAL_FOLDER = "s3"  # <data>/s3/<bucket>/<key>
POINTER = "CURRENT"  # <prefix>/<domain>/CURRENT names the complete version readers use
VERSION_PREFIX = "v-"
POINTER_FORMAT = 1
# A version no pointer named is someone's upload in progress until this old (or a dead run's leftover).
ORPHAN_GRACE_SECONDS = 24 * 3600.0
LOG_EVERY_SECONDS = 2.0
MIN_PART_MIB = 5  # S3 rejects multipart parts under 5 MiB (but the last)


class PublishError(ValueError):
    """Bad configuration or a missing/corrupt export: nothing was written."""


# --- key prefix -----------------------------------------------------------------------------------
def prefix_fields(scenario: Scenario) -> dict[str, str]:
    """The placeholders a prefix template may use; all are fixed by the scenario."""
    return {
        # The dataset's own clock: the last second of its window (seed 002's generation_YYYYMMDD_HHMMSS).
        "timestamp": f"{scenario.window.end:%Y%m%d}_235959",
        "fingerprint": scenario.fingerprint,
        "dataset_id": scenario.dataset_id,
        "profile": scenario.profile.name,
        "size": scenario.size,
        "seed": str(scenario.seed),
        "run_tag": scenario.run_tag,
    }


def upload_prefix(template: str, scenario: Scenario, domain: str) -> str:
    """`<rendered template>/<domain>/`: each domain has its own folder and its own manifest."""
    allowed = prefix_fields(scenario)
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise PublishError(f"s3 prefix: {template!r} is not a valid template ({exc})") from None
    unknown = sorted(n for n in names if n not in allowed)
    if unknown:
        raise PublishError(
            f"s3 prefix: unknown placeholder(s) {', '.join('{' + n + '}' for n in unknown)} in {template!r}; "
            f"allowed: {', '.join('{' + n + '}' for n in allowed)}"
        )
    rendered = template.format(**allowed).strip("/")
    if not rendered or any(part in ("", ".", "..") for part in rendered.split("/")):
        raise PublishError(f"s3 prefix: {template!r} renders to {rendered!r}; allowed: non-empty folder names")
    return f"{rendered}/{domain}/"


# --- the upload -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExportFile:
    path: str  # relative to the export folder, and to the key prefix
    bytes: int
    sha256: str


@dataclass
class UploadResult:
    prefix: str
    version: str  # the version folder, e.g. "v-0123456789abcdef/"
    manifest_key: str  # the version's manifest
    pointer_key: str
    files: list[ExportFile]
    rows: int
    uploaded: list[str] = field(default_factory=list)
    copied: list[str] = field(default_factory=list)  # from the previous version, inside the store
    skipped: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    bytes_uploaded: int = 0
    seconds: float = 0.0

    @property
    def bytes_total(self) -> int:
        return sum(f.bytes for f in self.files)


def read_export(root: Path) -> tuple[list[ExportFile], bytes, int]:
    """The export's files as its manifest lists them, checked against the disk before any upload."""
    manifest_path = root / MANIFEST
    if not manifest_path.is_file():
        raise PublishError(f"no files export at {root} (no {MANIFEST}); materialise the domain's exported_files first")
    raw = manifest_path.read_bytes()
    manifest = json.loads(raw)
    files = [ExportFile(f["path"], int(f["bytes"]), f["sha256"]) for f in manifest["files"]]

    def intact(f: ExportFile) -> bool:
        path = root / f.path
        return path.is_file() and path.stat().st_size == f.bytes and file_sha256(path) == f.sha256

    # Files hashed side by side (hashlib releases the GIL); the first bad one in manifest order is named.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="sha256") as pool:
        for f, ok in zip(files, pool.map(intact, files), strict=True):
            if not ok:
                raise PublishError(f"export at {root} is corrupt: {f.path} does not match its manifest entry")
    return files, raw, sum(int(n) for n in manifest.get("tables", {}).values())


# --- the pointer: what readers follow ---------------------------------------------------------------
def version_folder(manifest_sha256: str) -> str:
    """The version folder of an export: named by its manifest's sha256, which fixes every file's bytes."""
    return f"{VERSION_PREFIX}{manifest_sha256[:16]}/"


@dataclass(frozen=True)
class Pointer:
    """The content of `<prefix>CURRENT`."""

    version: str  # "v-<16 hex>/", relative to the prefix
    manifest_sha256: str
    previous: str | None  # the version CURRENT named before: kept for readers still reading it

    def to_bytes(self) -> bytes:
        # Deterministic: the same export over the same previous one gives the same pointer bytes.
        body = {
            "format": POINTER_FORMAT,
            "version": self.version,
            "manifest": self.version + MANIFEST,
            "manifest_sha256": self.manifest_sha256,
            "previous": self.previous,
        }
        return (json.dumps(body, indent=2, sort_keys=True) + "\n").encode()

    @classmethod
    def parse(cls, raw: bytes, where: str) -> "Pointer":
        try:
            body = json.loads(raw)
            pointer = cls(str(body["version"]), str(body["manifest_sha256"]), body.get("previous"))
        except (ValueError, KeyError, TypeError) as exc:
            raise PublishError(f"{where}: not a pointer written by s3_upload ({exc}); allowed: delete it") from None
        if pointer.version != version_folder(pointer.manifest_sha256):
            raise PublishError(f"{where}: names {pointer.version!r}, which is not its manifest's version folder")
        return pointer


def read_pointer(store: ObjectStore, prefix: str) -> Pointer | None:
    raw = store.get(prefix + POINTER)
    return None if raw is None else Pointer.parse(raw, store.uri(prefix + POINTER))


@dataclass(frozen=True)
class CurrentExport:
    """What a reader of `<prefix>` gets: the complete version CURRENT names."""

    version_prefix: str  # the key prefix of the version's files
    manifest: bytes  # checked against the pointer's sha256
    files: list[ExportFile]


def read_current(store: ObjectStore, prefix: str) -> CurrentExport | None:
    """The export readers of `prefix` see: follow CURRENT to its version and read that manifest.
    None while nothing was ever published there. The manifest's files are under `version_prefix`."""
    pointer = read_pointer(store, prefix)
    if pointer is None:
        return None
    key = prefix + pointer.version + MANIFEST
    raw = store.get(key)
    if raw is None or hashlib.sha256(raw).hexdigest() != pointer.manifest_sha256:
        # Only if someone deleted or replaced objects by hand: versions are never rewritten.
        raise PublishError(f"{store.uri(key)}: missing or not the manifest {prefix + POINTER} names")
    listed = json.loads(raw)["files"]
    files = [ExportFile(str(f["path"]), int(f["bytes"]), str(f["sha256"])) for f in listed]
    return CurrentExport(prefix + pointer.version, raw, files)


# --- the upload -------------------------------------------------------------------------------------
def upload_export(
    root: Path,
    store: ObjectStore,
    prefix: str,
    log: Callable[[str], None] = lambda _: None,
    orphan_grace_seconds: float = ORPHAN_GRACE_SECONDS,
) -> UploadResult:
    """Make CURRENT under `prefix` name a complete copy of the export at `root`: files, then the
    version's manifest, then the pointer in one PUT, then old versions collected."""
    started = time.perf_counter()
    files, manifest_bytes, rows = read_export(root)
    manifest_sha = hashlib.sha256(manifest_bytes).hexdigest()
    version = version_folder(manifest_sha)
    version_prefix = prefix + version
    manifest_key, pointer_key = version_prefix + MANIFEST, prefix + POINTER
    result = UploadResult(prefix, version, manifest_key, pointer_key, files, rows)

    pointer = read_pointer(store, prefix)
    existing = store.list(version_prefix)

    def present(key: str, size: int, sha: str) -> bool:
        return key in existing and existing[key].size == size and store.sha256(key) == sha

    # Files the current version holds with the same bytes are copied inside the store, not sent again.
    reusable: dict[tuple[str, str], str] = {}
    if pointer is not None and pointer.version != version:
        current = read_current(store, prefix)
        if current is not None:
            reusable = {(f.path, f.sha256): current.version_prefix + f.path for f in current.files}

    last_log = time.perf_counter()
    for i, f in enumerate(files, 1):
        key = version_prefix + f.path
        if present(key, f.bytes, f.sha256):
            result.skipped.append(key)
        elif (f.path, f.sha256) in reusable:
            store.copy(reusable[(f.path, f.sha256)], key, f.sha256, f.bytes)
            result.copied.append(key)
        else:
            store.put(root / f.path, key, f.sha256)
            result.uploaded.append(key)
            result.bytes_uploaded += f.bytes
        if time.perf_counter() - last_log >= LOG_EVERY_SECONDS:
            # Progress, not one line per file: an export can have thousands of files.
            log(f"{i}/{len(files)} files in place ({result.bytes_uploaded:,} bytes sent), last {store.uri(key)}")
            last_log = time.perf_counter()
    # The version's manifest after all its files: a version folder with a manifest is complete.
    if present(manifest_key, len(manifest_bytes), manifest_sha):
        result.skipped.append(manifest_key)
    else:
        store.put(root / MANIFEST, manifest_key, manifest_sha)
        result.uploaded.append(manifest_key)
        result.bytes_uploaded += len(manifest_bytes)

    retired: str | None = None  # the version before the previous one: no reader is sent there any more
    if pointer is not None and pointer.version == version:
        result.skipped.append(pointer_key)
    else:
        # The one write readers see: from here they read the new version.
        new_pointer = Pointer(version, manifest_sha, pointer.version if pointer is not None else None)
        store.put_bytes(new_pointer.to_bytes(), pointer_key)
        result.uploaded.append(pointer_key)
        result.bytes_uploaded += len(new_pointer.to_bytes())
        log(f"{store.uri(pointer_key)} now names {version} (previous: {new_pointer.previous or 'none'})")
        retired = pointer.previous if pointer is not None else None
        pointer = new_pointer
    result.deleted = collect_garbage(store, prefix, pointer, retired, orphan_grace_seconds)
    if result.deleted:
        log(f"deleted {len(result.deleted)} object(s) of older versions")
    if not result.uploaded and not result.copied:
        log(f"{store.uri(prefix)} already holds this export ({len(files)} files): nothing to upload")
    result.seconds = time.perf_counter() - started
    return result


def collect_garbage(
    store: ObjectStore, prefix: str, pointer: Pointer, retired: str | None, orphan_grace_seconds: float
) -> list[str]:
    """Delete what no reader is sent to: the `retired` version (CURRENT named it two publishes ago)
    and objects of the layout before versions. Every other version folder but CURRENT's and the
    previous one only once it is old enough: no pointer we know of named it, so it may be another
    run's upload in progress, about to become CURRENT (or a dead run's leftover)."""
    keep = {pointer.version, pointer.previous}
    versions: dict[str, list[str]] = {}
    newest: dict[str, float] = {}
    legacy: list[str] = []  # the layout before versions: files and manifest.json straight under the prefix
    for key, obj in store.list(prefix).items():
        rest = key[len(prefix) :]
        head, sep, _ = rest.partition("/")
        if sep and head.startswith(VERSION_PREFIX):
            folder = head + "/"
            versions.setdefault(folder, []).append(key)
            newest[folder] = max(newest.get(folder, 0.0), obj.modified)
        elif rest != POINTER:
            legacy.append(key)
    now = time.time()
    doomed = [
        key
        for folder, keys in versions.items()
        if folder not in keep and (folder == retired or now - newest[folder] >= orphan_grace_seconds)
        for key in keys
    ]
    # The manifest first: a folder without one never reads as a complete version, even half-deleted.
    doomed.sort(key=lambda k: (not k.endswith("/" + MANIFEST), k))
    doomed += sorted(legacy, key=lambda k: (k != prefix + MANIFEST, k))
    if doomed:
        store.delete(doomed)
    return doomed


def redact_url(url: str | None) -> str | None:
    """A URL without user:password, for metadata and logs."""
    if not url:
        return url
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


# --- resources ---------------------------------------------------------------------------------------
class S3UploadResource(dg.ConfigurableResource):
    """Where the S3 upload goes. Implementations: `LocalS3UploadResource` (default) and
    `BucketS3UploadResource` (a real S3 API)."""

    prefix: str = Field(
        default=DEFAULT_PREFIX,
        description="Key prefix template; placeholders {timestamp} {fingerprint} {dataset_id} {profile} "
        "{size} {seed} {run_tag}. The domain is always appended as the last folder.",
    )

    def open_store(self, data_dir: Path) -> ObjectStore:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """Non-secret facts about the destination, for metadata."""
        return {}

    def secrets(self) -> tuple[str, ...]:
        """Values scrubbed from every message (an S3 error may quote the access key id)."""
        return ()


class LocalS3UploadResource(S3UploadResource):
    """Embedded default: `<data>/s3/<bucket>/<key>`, laid out exactly as the bucket would be."""

    bucket: str = Field(default=DEFAULT_LOCAL_BUCKET, description="Folder name standing for the bucket.")

    def open_store(self, data_dir: Path) -> ObjectStore:
        return LocalObjectStore(data_dir / LOCAL_FOLDER / self.bucket)

    def describe(self) -> dict[str, Any]:
        return {"destination": "local", "bucket": self.bucket}


class BucketS3UploadResource(S3UploadResource):
    """A real S3 API (AWS, MinIO, moto...) through dagster-aws's S3Resource."""

    bucket: str = Field(description="Existing bucket; the upload never creates buckets.")
    s3: S3Resource = Field(description="Connection: region, endpoint, credentials, max_attempts (retries).")
    acl: str = Field(default="private", description='Canned ACL of every object; "" to send none.')
    multipart_threshold_mb: int = Field(default=64, description="Files from this size go up as multipart uploads.")
    multipart_chunksize_mb: int = Field(default=16, description="Part size of multipart uploads (S3 minimum 5).")
    max_concurrency: int = Field(default=4, description="Parts uploaded in parallel.")

    def open_store(self, data_dir: Path) -> ObjectStore:
        if not self.bucket.strip():
            raise PublishError(
                f"s3 bucket: empty; allowed: an existing bucket's name (unset {BUCKET_ENV} for the local folder)"
            )
        if self.multipart_chunksize_mb < MIN_PART_MIB or self.multipart_threshold_mb < MIN_PART_MIB:
            raise PublishError(
                f"s3 multipart: threshold {self.multipart_threshold_mb} MiB and part size "
                f"{self.multipart_chunksize_mb} MiB; allowed: at least {MIN_PART_MIB} MiB (S3's minimum part size)"
            )
        transfer = TransferConfig(
            multipart_threshold=self.multipart_threshold_mb * MIB,
            multipart_chunksize=self.multipart_chunksize_mb * MIB,
            max_concurrency=max(1, self.max_concurrency),
        )
        return S3ObjectStore(self.s3.get_client(), self.bucket, transfer, self.acl or None)

    def secrets(self) -> tuple[str, ...]:
        keys = (self.s3.aws_access_key_id, self.s3.aws_secret_access_key, self.s3.aws_session_token)
        return tuple(k for k in keys if k)

    def describe(self) -> dict[str, Any]:
        facts = {"destination": "s3", "bucket": self.bucket, "retries_per_request": self.s3.max_attempts}
        if self.s3.endpoint_url:
            facts["endpoint"] = redact_url(self.s3.endpoint_url)
        return facts


def s3_upload_from_env() -> S3UploadResource:
    """The real bucket when MOCK_PIPELINE_S3_BUCKET is set, else the local folder; values via dg.EnvVar."""
    prefix = env_var_if_set(PREFIX_ENV)
    common: dict[str, Any] = {"prefix": prefix} if prefix is not None else {}
    if BUCKET_ENV not in os.environ:
        return LocalS3UploadResource(**common)
    if (acl := env_var_if_set(ACL_ENV)) is not None:
        common["acl"] = acl
    return BucketS3UploadResource(
        bucket=dg.EnvVar(BUCKET_ENV),
        s3=S3Resource(
            region_name=env_var_if_set(REGION_ENV),
            endpoint_url=env_var_if_set(ENDPOINT_ENV),
            aws_access_key_id=env_var_if_set(ACCESS_KEY_ENV),
            aws_secret_access_key=env_var_if_set(SECRET_KEY_ENV),
            aws_session_token=env_var_if_set(SESSION_TOKEN_ENV),
        ),
        **common,
    )


# --- asset --------------------------------------------------------------------------------------------
def s3_upload_asset(domain: Domain) -> dg.AssetsDefinition:
    @dg.asset(
        name="s3_upload",
        key_prefix=[domain.name],
        group_name=domain.name,
        # After the files export, which itself runs only once the blocking checks passed.
        deps=[dg.AssetKey([domain.name, "exported_files"])],
        kinds={"s3"},
        owners=OWNERS,
        description=f"The {domain.name} files export in a bucket (or a local folder laid out as one): a "
        "version folder per export, CURRENT naming the complete one; unchanged objects are not sent again.",
    )
    def _s3_upload(
        context: dg.AssetExecutionContext,
        scenario: ScenarioResource,
        data_dir: DataDirResource,
        s3_upload: S3UploadResource,
    ) -> dg.MaterializeResult:
        resolved = scenario.resolve()
        try:
            prefix = upload_prefix(s3_upload.prefix, resolved, domain.name)
            store = s3_upload.open_store(data_dir.path)
            result = upload_export(data_dir.export(resolved, domain.name), store, prefix, context.log.info)
        except PublishError as exc:
            raise dg.Failure(description=scrub(str(exc), s3_upload.secrets()), allow_retries=False) from None
        except (ClientError, BotoCoreError, Boto3Error) as exc:  # Boto3Error: upload_file's S3UploadFailedError
            # After the client's own retries; CURRENT still names the previous, complete version.
            message = scrub(f"S3 upload of {domain.name} failed: {exc}", s3_upload.secrets())
            raise dg.Failure(description=message) from None
        context.log.info(
            f"{store.uri(prefix)}: {len(result.uploaded)} uploaded ({result.bytes_uploaded:,} bytes), "
            f"{len(result.copied)} copied in the bucket, {len(result.skipped)} unchanged, "
            f"{len(result.deleted)} deleted, in {result.seconds:.2f} s"
        )
        return dg.MaterializeResult(
            metadata={
                **s3_upload.describe(),
                "dagster/uri": store.uri(prefix),
                "dagster/row_count": result.rows,
                "pointer": store.uri(result.pointer_key),
                "version": result.version.rstrip("/"),
                "manifest": store.uri(result.manifest_key),
                "dataset_id": resolved.dataset_id,
                "objects": len(result.files) + 2,  # files, the version's manifest, the pointer
                "uploaded": len(result.uploaded),
                "copied_in_store": len(result.copied),
                "skipped_unchanged": len(result.skipped),
                "deleted_stale": len(result.deleted),
                "bytes_total": result.bytes_total,
                "bytes_uploaded": result.bytes_uploaded,
                "seconds": round(result.seconds, 3),
            }
        )

    return _s3_upload
