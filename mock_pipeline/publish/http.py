"""HTTP upload (seed 003's `--upload --api-url --api-key`): a domain's records posted in JSON batches.

The protocol, documented in the README:

- `POST {api_url}/{domain}/{table}` per batch of at most `batch_size` records, tables in
  dependency order (parents first), with headers `X-API-Key: <key>` (configurable name),
  `Content-Type: application/json` and `Idempotency-Key: {dataset_id}/{domain}/{table}/{batch}`.
  Body: `{"batch": 0, "dataset_id": ..., "domain": ..., "first_row": 0, "table": ..., "records": [...]}`;
  records are the exported columns (no password hashes), rendered column-wise like the NDJSON export.
- Any 2xx accepts the batch; a JSON answer `{"accepted": n}` says how many records were kept.
- 408, 429, 5xx and connection errors are retried with exponential backoff (urllib3's `Retry`,
  honouring `Retry-After` up to a cap), a bounded number of times; the same Idempotency-Key lets
  the server drop a batch it already has (a retry after a lost answer, or a rerun).
- Last, `POST {api_url}/{domain}/manifest` with the per-table counts: like the files export's
  manifest it marks the upload complete, so a failure half-way never looks like a whole dataset.
- One upload at a time per API and domain from one data folder: a second run waits for the first
  (bounded by `lock_wait_seconds`, then one line naming the other run), then posts again; the
  Idempotency-Keys let the server drop what it already has. Runs on different machines share no
  lock: there the Idempotency-Keys alone keep the server's records whole.

Embedded default, with no URL configured: an outbox folder under the data folder holding every
request body exactly as it would be posted, each stored once and gzip-compressed
(`<data>/http_outbox/<dataset_id>/<domain>/<table>/000000.json.gz`; the manifest, small, as plain
`manifest.json`, written last; the folder swapped in atomically). A fresh machine's run succeeds,
and what an API would receive can be inspected (`zcat file`) or replayed
(`zcat file | curl --data-binary @- ...`, or `--data-binary @file -H 'Content-Encoding: gzip'`
where the server accepts compressed bodies).
"""

import gzip
import hashlib
import json
import os
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
import requests
from pydantic import Field
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from mock_pipeline.domains.factory import OWNERS, Domain
from mock_pipeline.engine.table import TableSpec, read_batches
from mock_pipeline.publish.files import ndjson_lines
from mock_pipeline.publish.locks import DEFAULT_WAIT_SECONDS, Busy, hold
from mock_pipeline.publish.scrubbing import excerpt, scrub
from mock_pipeline.publish.swap import replace_dir
from mock_pipeline.resources import DataDirResource, ScenarioResource, env_var_if_set

API_URL_ENV = "MOCK_PIPELINE_UPLOAD_API_URL"
API_KEY_ENV = "MOCK_PIPELINE_UPLOAD_API_KEY"
OUTBOX_FOLDER = "http_outbox"
MANIFEST = "manifest"
RETRY_STATUSES = (408, 429, 500, 502, 503, 504)
LOG_EVERY_SECONDS = 2.0
# Fast gzip: the outbox is written at the speed of rendering JSON, and JSON still shrinks about 5x.
OUTBOX_GZIP_LEVEL = 1
T = TypeVar("T")


class UploadError(RuntimeError):
    """The API refused, or stayed unreachable after the bounded retries."""


class UploadConfigError(ValueError):
    """Bad configuration or missing tables: nothing was sent."""


# --- request bodies, built column-wise --------------------------------------------------------------
def json_safe(table: pa.Table) -> pa.Table:
    """JSON has no NaN or Infinity: non-finite floats are sent as null."""
    for i, f in enumerate(table.schema):
        if pa.types.is_floating(f.type):
            column = table.column(i)
            table = table.set_column(i, f, pc.if_else(pc.is_finite(column), column, pa.scalar(None, f.type)))
    return table


def request_body(envelope: dict[str, Any], records: pa.Array) -> bytes:
    """`{...envelope, "records": [row, row, ...]}` from the rows' JSON objects, joined by Arrow, not Python."""
    head = json.dumps(envelope, sort_keys=True, separators=(",", ":"))[:-1]
    rows = pa.ListArray.from_arrays(pa.array([0, len(records)], pa.int32()), records)
    # The joined records straight from Arrow's buffer: no Python str of the whole batch in between.
    joined = pc.binary_join(rows, ",")[0].as_buffer()
    return b"".join((f'{head},"records":['.encode(), memoryview(joined), b"]}"))


def record_batches(table_dir: Path, columns: list[str], batch_size: int) -> Iterator[pa.Array]:
    """The table's rows as JSON objects, `batch_size` per request (the last may have fewer). Rows are
    rendered a Parquet batch at a time, then cut: rendering each request's rows apart cost 1.7x the
    Arrow calls for the same bytes."""
    pending: pa.Array | None = None
    for batch in read_batches(table_dir, columns=columns):
        if batch.num_rows == 0:
            continue
        lines = ndjson_lines(json_safe(pa.Table.from_batches([batch])).combine_chunks().to_batches()[0], suffix="")
        if pending is not None:
            lines = pa.concat_arrays([pending, lines])
        whole = len(lines) - len(lines) % batch_size
        for start in range(0, whole, batch_size):
            yield lines.slice(start, batch_size)
        pending = lines.slice(whole) if whole < len(lines) else None
    if pending is not None:
        yield pending


# --- where requests go ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Request:
    path: str  # relative to the API URL: "{domain}/{table}" or "{domain}/manifest"
    file: str  # relative to the domain's outbox folder: "{table}/000000.json.gz" or "manifest.json"
    body: bytes
    idempotency_key: str


@dataclass(frozen=True)
class Posted:
    accepted: int | None  # what the server said it kept; None when it did not say
    retries: int = 0


class BatchSink(ABC):
    @abstractmethod
    def where(self, path: str, file: str) -> str:
        """The URI a request with this API path and outbox file goes to."""

    @abstractmethod
    def post(self, request: Request) -> Posted: ...


class OutboxSink(BatchSink):
    """Writes each request body to a file instead of sending it: gzip-compressed where the file name
    ends in .gz (decompressed, the very bytes that would be posted), as is otherwise.

    Batches are compressed and written by one background thread (zlib releases the GIL) while the
    next batch renders, in posting order; a non-.gz file (the manifest, last) is written only once
    every batch before it is on disk. `close()` waits for the writes and raises the first failure."""

    # Bodies held in memory at most, waiting for the writer. Rows are rendered a Parquet batch at a
    # time, so bodies come in bursts of a hundred or more: a bound of a few bodies stopped the
    # renderer at each burst until the writer caught up, and the two hardly ever ran together.
    PENDING_BYTES = 64 << 20

    def __init__(self, folder: Path, shown_as: Path) -> None:
        self.folder, self.shown_as = folder, shown_as  # staging folder; final folder for URIs
        self._writer: ThreadPoolExecutor | None = None
        self._pending: deque[tuple[Future[None], int]] = deque()
        self._pending_bytes = 0

    def where(self, path: str, file: str) -> str:
        return (self.shown_as / file).as_uri()

    def _write(self, file: str, body: bytes) -> None:
        target = self.folder / file
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.suffix == ".gz":
            # mtime=0 and no file name in the header: the same body always gives the same file.
            target.write_bytes(gzip.compress(body, compresslevel=OUTBOX_GZIP_LEVEL, mtime=0))
        else:
            target.write_bytes(body)

    def _drain(self, keep_bytes: int = 0) -> None:
        while self._pending and (self._pending_bytes > keep_bytes or not keep_bytes):
            future, size = self._pending.popleft()
            self._pending_bytes -= size
            future.result()  # re-raises a failed write here, in the uploading thread

    def post(self, request: Request) -> Posted:
        if not request.file.endswith(".gz"):
            self._drain()
            self._write(request.file, request.body)
            return Posted(accepted=None)
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox")
        self._pending.append((self._writer.submit(self._write, request.file, request.body), len(request.body)))
        self._pending_bytes += len(request.body)
        self._drain(keep_bytes=self.PENDING_BYTES)
        return Posted(accepted=None)

    def close(self, quiet: bool = False) -> None:
        """Wait for every write; `quiet` after another failure, which must stay the one reported."""
        try:
            if quiet:
                for pending, _ in self._pending:
                    pending.exception()  # waits, without raising
                self._pending.clear()
                self._pending_bytes = 0
            else:
                self._drain()
        finally:
            if self._writer is not None:
                self._writer.shutdown(wait=True, cancel_futures=True)
                self._writer = None


class ApiSink(BatchSink):
    """POSTs to a real API through a requests session whose adapter retries transient failures."""

    def __init__(self, session: requests.Session, base_url: str, timeout: float, secret: str | None = None) -> None:
        self.session, self.base_url, self.timeout = session, base_url.rstrip("/"), timeout
        self._secret = secret

    def _scrub(self, text: str) -> str:
        """A server may echo request headers in an error body: never let the key into a message."""
        return scrub(text, [self._secret])

    def where(self, path: str, file: str) -> str:
        return f"{self.base_url}/{path}"

    def post(self, request: Request) -> Posted:
        url = self.where(request.path, request.file)
        headers = {"Content-Type": "application/json", "Idempotency-Key": request.idempotency_key}
        try:
            response = self.session.post(url, data=request.body, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            # Raised once the bounded retries are spent; the message names the URL, never the headers.
            reason = _reason(self._scrub(str(exc)))  # scrubbed before it is cut
            raise UploadError(f"POST {url} failed after retries: {type(exc).__name__}: {reason}") from None
        history = getattr(getattr(response.raw, "retries", None), "history", None) or ()
        if not response.ok:
            hint = " (check the API key)" if response.status_code in (401, 403) else ""
            raise UploadError(
                f"POST {url} answered {response.status_code} {response.reason}{hint} after "
                f"{len(history) + 1} attempt(s): {excerpt(response.text, [self._secret])!r}"
            )
        return Posted(accepted=_accepted(response), retries=len(history))


def _reason(text: str) -> str:
    return text if len(text) <= 300 else text[:300] + "…"


def _accepted(response: requests.Response) -> int | None:
    try:
        answer = response.json()
    except ValueError:
        return None
    value = answer.get("accepted") if isinstance(answer, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# --- the upload -----------------------------------------------------------------------------------
@dataclass
class TableUpload:
    rows: int = 0
    accepted: int = 0
    batches: int = 0
    bytes: int = 0


@dataclass
class UploadReport:
    uri: str = ""
    manifest_uri: str = ""
    tables: dict[str, TableUpload] = field(default_factory=dict)
    retries: int = 0
    requests: int = 0
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables.values())

    @property
    def accepted(self) -> int:
        return sum(t.accepted for t in self.tables.values())

    @property
    def bytes(self) -> int:
        return sum(t.bytes for t in self.tables.values())


def upload_records(
    dataset: Path,
    tables: Sequence[TableSpec],
    sink: BatchSink,
    domain: str,
    dataset_id: str,
    batch_size: int,
    log: Callable[[str], None] = lambda _: None,
) -> UploadReport:
    """Post every table's records in batches, parents first, then the manifest."""
    if batch_size <= 0:
        raise UploadConfigError(f"http upload batch_size: must be a positive number of records, got {batch_size}")
    missing = [t.name for t in tables if not (dataset / t.name).is_dir()]
    if missing:
        raise UploadConfigError(f"tables not materialised yet under {dataset}: {', '.join(missing)}")
    started = time.perf_counter()
    report = UploadReport(uri=sink.where(domain, ""))
    last_log = started

    def send(request: Request) -> Posted:
        posted = sink.post(request)
        report.retries += posted.retries
        report.requests += 1
        return posted

    for spec in tables:
        done = report.tables[spec.name] = TableUpload()
        columns = [c for c in spec.columns if c not in spec.export_exclude]
        for index, records in enumerate(record_batches(dataset / spec.name, columns, batch_size)):
            envelope = {"dataset_id": dataset_id, "domain": domain, "table": spec.name, "batch": index,
                        "first_row": done.rows}  # fmt: skip
            body = request_body(envelope, records)
            key = f"{dataset_id}/{domain}/{spec.name}/{index:06d}"
            posted = send(Request(f"{domain}/{spec.name}", f"{spec.name}/{index:06d}.json.gz", body, key))
            done.rows += len(records)
            done.accepted += len(records) if posted.accepted is None else posted.accepted
            done.batches += 1
            done.bytes += len(body)
            if time.perf_counter() - last_log >= LOG_EVERY_SECONDS:
                log(f"{spec.name}: {done.rows:,} records sent in {done.batches} batch(es) so far")
                last_log = time.perf_counter()
        log(f"{spec.name}: {done.rows:,} records in {done.batches} batch(es), {done.accepted:,} accepted")
    manifest = {"dataset_id": dataset_id, "domain": domain, "tables": {k: asdict(v) for k, v in report.tables.items()}}
    body = json.dumps(manifest, sort_keys=True, indent=2).encode() + b"\n"
    request = Request(f"{domain}/{MANIFEST}", f"{MANIFEST}.json", body, f"{dataset_id}/{domain}/{MANIFEST}")
    send(request)
    report.manifest_uri = sink.where(request.path, request.file)
    report.seconds = time.perf_counter() - started
    return report


def check_api_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UploadConfigError(f"http upload api_url: {url!r} is not a URL; allowed: http(s)://host[:port]/path")
    if parts.username is not None or parts.password is not None:
        # Credentials in a URL end up in logs; the key has its own variable.
        raise UploadConfigError(f"http upload api_url: must not carry user:password; set {API_KEY_ENV} instead")
    return url.rstrip("/")


# --- resources ---------------------------------------------------------------------------------------
class HttpUploadResource(dg.ConfigurableResource):
    """Where the HTTP upload goes. Implementations: `OutboxHttpUploadResource` (default) and
    `ApiHttpUploadResource` (a real API)."""

    batch_size: int = Field(default=1000, description="Records per request.")

    def deliver(self, data_dir: Path, dataset_id: str, domain: str, upload: Callable[[BatchSink], T]) -> T:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {}


class OutboxHttpUploadResource(HttpUploadResource):
    """Embedded default: request bodies as files under `<data>/http_outbox/`, exactly as they would be posted."""

    def deliver(self, data_dir: Path, dataset_id: str, domain: str, upload: Callable[[BatchSink], T]) -> T:
        target = data_dir / OUTBOX_FOLDER / dataset_id / domain

        def build(staging: Path) -> T:
            sink = OutboxSink(staging, target)
            try:
                report = upload(sink)
            except BaseException:
                sink.close(quiet=True)  # no write may land in the staging folder once it is thrown away
                raise
            sink.close()
            return report

        # Built aside and swapped in: the outbox holds the previous complete upload or the new one.
        return replace_dir(target, build)

    def describe(self) -> dict[str, Any]:
        return {"destination": "outbox"}


class ApiHttpUploadResource(HttpUploadResource):
    """A real API: `POST {api_url}/{domain}/{table}` with the API key in a header."""

    api_url: str = Field(description="Base URL, e.g. http://localhost:8000/api/v1 (seed 003's --api-url).")
    api_key: str | None = Field(default=None, description="Sent in `api_key_header`; set it through dg.EnvVar.")
    api_key_header: str = Field(default="X-API-Key", description="Header that carries the key.")
    max_attempts: int = Field(default=5, description="Attempts per request, the first included.")
    backoff_seconds: float = Field(default=0.5, description="Exponential backoff factor between retries.")
    backoff_max_seconds: float = Field(default=30.0, description="Longest wait between two attempts.")
    timeout_seconds: float = Field(default=30.0, description="Connect and read timeout per attempt.")
    lock_wait_seconds: float = Field(
        default=DEFAULT_WAIT_SECONDS,
        description="How long a run waits for another run of this data folder posting the same domain to the "
        "same API, before failing with one line naming it.",
    )

    def session(self) -> requests.Session:
        retry = Retry(
            total=max(0, self.max_attempts - 1),
            connect=None,
            read=None,
            status=None,
            allowed_methods=frozenset({"POST"}),  # safe to repeat: every batch carries an Idempotency-Key
            status_forcelist=RETRY_STATUSES,
            backoff_factor=self.backoff_seconds,
            backoff_max=self.backoff_max_seconds,
            backoff_jitter=self.backoff_seconds / 2,
            retry_after_max=int(self.backoff_max_seconds),
            raise_on_status=False,  # the last answer is reported with its status and body
            respect_retry_after_header=True,
        )
        session = requests.Session()
        session.mount("http://", HTTPAdapter(max_retries=retry))
        session.mount("https://", HTTPAdapter(max_retries=retry))
        if self.api_key:
            session.headers[self.api_key_header] = self.api_key
        return session

    def deliver(self, data_dir: Path, dataset_id: str, domain: str, upload: Callable[[BatchSink], T]) -> T:
        if self.max_attempts < 1:
            raise UploadConfigError(f"http upload max_attempts: must be at least 1, got {self.max_attempts}")
        url = check_api_url(self.api_url)
        # Two runs posting at once would interleave their batches and manifests at the server.
        destination = f"HTTP upload of {domain} to {url}"
        with hold(api_lock_file(data_dir, url, domain), destination, self.lock_wait_seconds), self.session() as session:
            return upload(ApiSink(session, url, self.timeout_seconds, self.api_key))

    def describe(self) -> dict[str, Any]:
        return {"destination": "api", "api_key_sent": bool(self.api_key), "max_attempts": self.max_attempts}


def api_lock_file(data_dir: Path, url: str, domain: str) -> Path:
    """The lock runs of one data folder take to post `domain` to the API at `url` (no secret in it:
    check_api_url refuses credentials in the URL)."""
    digest = hashlib.sha256(f"{url}\n{domain}".encode()).hexdigest()[:24]
    return data_dir / OUTBOX_FOLDER / ".api-locks" / f"{domain}.{digest}.lock"


def http_upload_from_env() -> HttpUploadResource:
    """The API when MOCK_PIPELINE_UPLOAD_API_URL is set, else the outbox; values via dg.EnvVar."""
    if API_URL_ENV not in os.environ:
        return OutboxHttpUploadResource()
    return ApiHttpUploadResource(api_url=dg.EnvVar(API_URL_ENV), api_key=env_var_if_set(API_KEY_ENV))


# --- asset --------------------------------------------------------------------------------------------
def http_upload_asset(domain: Domain) -> dg.AssetsDefinition:
    @dg.asset(
        name="http_upload",
        key_prefix=[domain.name],
        group_name=domain.name,
        # After the files export, so only a dataset whose blocking checks passed is sent.
        deps=[dg.AssetKey([domain.name, "exported_files"])],
        kinds={"api"},
        owners=OWNERS,
        description=f"The {domain.name} records posted in JSON batches to an API (or written to a local "
        "outbox exactly as they would be posted), manifest last.",
    )
    def _http_upload(
        context: dg.AssetExecutionContext,
        scenario: ScenarioResource,
        data_dir: DataDirResource,
        http_upload: HttpUploadResource,
    ) -> dg.MaterializeResult:
        resolved = scenario.resolve()

        def upload(sink: BatchSink) -> UploadReport:
            with data_dir.reading(resolved, domain.name) as dataset:
                return upload_records(
                    dataset, domain.tables, sink, domain.name,
                    resolved.dataset_id, http_upload.batch_size, context.log.info,
                )  # fmt: skip

        try:
            report = http_upload.deliver(data_dir.path, resolved.dataset_id, domain.name, upload)
        except UploadConfigError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        except Busy as exc:  # another run held the API for longer than the bounded wait; nothing was sent
            raise dg.Failure(description=str(exc)) from None
        except UploadError as exc:
            raise dg.Failure(description=f"HTTP upload of {domain.name} failed (no manifest sent): {exc}") from None
        per_table = {
            n: {"sent": t.rows, "accepted": t.accepted, "batches": t.batches} for n, t in report.tables.items()
        }
        context.log.info(
            f"{report.uri}: {report.accepted:,} of {report.rows:,} records accepted in {report.requests} "
            f"requests ({report.retries} retries), {report.bytes:,} bytes, {report.seconds:.2f} s"
        )
        return dg.MaterializeResult(
            metadata={
                **http_upload.describe(),
                "dagster/uri": report.uri,
                "dagster/row_count": report.rows,
                "manifest": report.manifest_uri,
                "dataset_id": resolved.dataset_id,
                "records_sent": report.rows,
                "records_accepted": report.accepted,
                "accepted_per_table": dg.MetadataValue.json(per_table),
                "requests": report.requests,
                "retries": report.retries,
                "batch_size": http_upload.batch_size,
                "bytes": report.bytes,
                "seconds": round(report.seconds, 3),
            }
        )

    return _http_upload
