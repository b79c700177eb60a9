"""S3 upload of a domain's files export (seed 002's `s3://bucket/datasets/generation_<timestamp>/`).

What goes up is exactly the `[domain, exported_files]` folder: the files its `manifest.json`
lists, then the manifest itself, last, so a reader that waits for the manifest never sees a
half-uploaded dataset as complete.

Idempotency: the key prefix is derived from the scenario, never from the wall clock: `{timestamp}`
is the dataset's as-of moment (the last second of its window) and `{fingerprint}` the hash of the
config that decides its bytes, so the same dataset always lands under the same keys and two
different datasets never share a prefix. Every object carries its sha256 as user metadata, and an
object whose recorded sha256 matches is not sent again: a rerun of an unchanged dataset uploads
nothing. When something did change, the old manifest is removed first, changed files go up,
objects the new manifest no longer lists are deleted, and the new manifest goes up last.

Two stores share one interface: a local folder laid out exactly as the bucket would be
(`<data>/s3/<bucket>/<key>`, the embedded default) and a real bucket through
`dagster_aws.s3.S3Resource` (boto3 with retries, multipart uploads for large files, private ACL).
"""

import hashlib
import json
import mimetypes
import os
import shutil
import string
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
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
SHA256_METADATA = "sha256"  # x-amz-meta-sha256
LOG_EVERY_SECONDS = 2.0
MIB = 1024 * 1024
MIN_PART_MIB = 5  # S3 rejects multipart parts under 5 MiB (but the last)
_CONTENT_TYPES = {".csv": "text/csv", ".ndjson": "application/x-ndjson", ".parquet": "application/vnd.apache.parquet"}


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


# --- stores -----------------------------------------------------------------------------------------
class ObjectStore(ABC):
    """The few object operations an upload needs, over a bucket or a local folder."""

    kind: str

    @abstractmethod
    def uri(self, key: str = "") -> str: ...

    @abstractmethod
    def list(self, prefix: str) -> dict[str, int]:
        """Every object under `prefix`: key -> size in bytes."""

    @abstractmethod
    def sha256(self, key: str) -> str | None:
        """The sha256 recorded for an object, None if it has none."""

    @abstractmethod
    def put(self, path: Path, key: str, sha256: str) -> None: ...

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

    def list(self, prefix: str) -> dict[str, int]:
        base = self.root / prefix
        if not base.is_dir():
            return {}
        return {p.relative_to(self.root).as_posix(): p.stat().st_size for p in base.rglob("*") if p.is_file()}

    def sha256(self, key: str) -> str | None:
        path = self.root / key
        return file_sha256(path) if path.is_file() else None

    def put(self, path: Path, key: str, sha256: str) -> None:
        target = self.root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        self._tmp.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=self._tmp)) / "object"
        try:
            link_or_copy(path, tmp)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
            tmp.parent.rmdir()

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

    def list(self, prefix: str) -> dict[str, int]:
        found: dict[str, int] = {}
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            found.update({o["Key"]: o["Size"] for o in page.get("Contents", [])})
        return found

    def sha256(self, key: str) -> str | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return head.get("Metadata", {}).get(SHA256_METADATA)

    def put(self, path: Path, key: str, sha256: str) -> None:
        extra: dict[str, Any] = {"Metadata": {SHA256_METADATA: sha256}, "ContentType": content_type(path)}
        if self.acl:
            extra["ACL"] = self.acl
        # upload_file switches to a multipart upload above the threshold, parts in parallel.
        self.client.upload_file(str(path), self.bucket, key, ExtraArgs=extra, Config=self.transfer)

    def delete(self, keys: Iterable[str]) -> None:
        batch = list(keys)
        for i in range(0, len(batch), 1000):  # DeleteObjects takes at most 1000 keys
            objects = [{"Key": k} for k in batch[i : i + 1000]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True})


def content_type(path: Path) -> str:
    if path.suffix == ".gz":
        return "application/gzip"
    return _CONTENT_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


# --- the upload -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExportFile:
    path: str  # relative to the export folder, and to the key prefix
    bytes: int
    sha256: str


@dataclass
class UploadResult:
    prefix: str
    manifest_key: str
    files: list[ExportFile]
    rows: int
    uploaded: list[str] = field(default_factory=list)
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


def upload_export(
    root: Path, store: ObjectStore, prefix: str, log: Callable[[str], None] = lambda _: None
) -> UploadResult:
    """Make `prefix` hold exactly the export at `root`, manifest last; unchanged objects are skipped."""
    started = time.perf_counter()
    files, manifest_bytes, rows = read_export(root)
    manifest_sha = hashlib.sha256(manifest_bytes).hexdigest()
    manifest_key = prefix + MANIFEST
    result = UploadResult(prefix=prefix, manifest_key=manifest_key, files=files, rows=rows)

    existing = store.list(prefix)
    wanted = {prefix + f.path: f for f in files}
    changed = [f for key, f in wanted.items() if not (existing.get(key) == f.bytes and store.sha256(key) == f.sha256)]
    stale = sorted(k for k in existing if k not in wanted and k != manifest_key)
    manifest_current = existing.get(manifest_key) == len(manifest_bytes) and store.sha256(manifest_key) == manifest_sha
    result.skipped = sorted(set(wanted) - {prefix + f.path for f in changed})
    if manifest_current and not changed and not stale:
        result.skipped.append(manifest_key)
        result.seconds = time.perf_counter() - started
        log(f"{store.uri(prefix)} already holds this export ({len(files)} files): nothing to upload")
        return result

    if manifest_key in existing:
        # From here until the new manifest lands, the prefix reads as incomplete, never as the old dataset.
        store.delete([manifest_key])
    last_log = time.perf_counter()
    for i, f in enumerate(changed, 1):
        key = prefix + f.path
        store.put(root / f.path, key, f.sha256)
        result.uploaded.append(key)
        result.bytes_uploaded += f.bytes
        if time.perf_counter() - last_log >= LOG_EVERY_SECONDS or i == len(changed):
            # Progress, not one line per file: an export can have thousands of files.
            log(f"uploaded {i}/{len(changed)} files ({result.bytes_uploaded:,} bytes), last {store.uri(key)}")
            last_log = time.perf_counter()
    if stale:
        store.delete(stale)
        result.deleted = stale
        log(f"deleted {len(stale)} object(s) the new manifest no longer lists")
    manifest_path = root / MANIFEST
    store.put(manifest_path, manifest_key, manifest_sha)
    result.uploaded.append(manifest_key)
    result.bytes_uploaded += len(manifest_bytes)
    result.seconds = time.perf_counter() - started
    return result


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
        description=f"The {domain.name} files export in a bucket (or a local folder laid out as one), "
        "manifest last; unchanged objects are not sent again.",
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
            # After the client's own retries; the manifest was not (re)written, so nothing reads as complete.
            message = scrub(f"S3 upload of {domain.name} failed: {exc}", s3_upload.secrets())
            raise dg.Failure(description=message) from None
        context.log.info(
            f"{store.uri(prefix)}: {len(result.uploaded)} uploaded ({result.bytes_uploaded:,} bytes), "
            f"{len(result.skipped)} unchanged, {len(result.deleted)} deleted, in {result.seconds:.2f} s"
        )
        return dg.MaterializeResult(
            metadata={
                **s3_upload.describe(),
                "dagster/uri": store.uri(prefix),
                "dagster/row_count": result.rows,
                "manifest": store.uri(result.manifest_key),
                "dataset_id": resolved.dataset_id,
                "objects": len(result.files) + 1,
                "uploaded": len(result.uploaded),
                "skipped_unchanged": len(result.skipped),
                "deleted_stale": len(result.deleted),
                "bytes_total": result.bytes_total,
                "bytes_uploaded": result.bytes_uploaded,
                "seconds": round(result.seconds, 3),
            }
        )

    return _s3_upload
