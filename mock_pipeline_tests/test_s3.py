"""S3 upload: the local default layout, and a real S3 API (moto_server) over HTTP on loopback.

The S3 tests talk to moto through a small recording proxy of their own, which sees every request
in order (so "CURRENT last" and "nothing re-sent" are observed on the wire) and can refuse
requests with 503 to exercise the client's retries and a failure half-way.

Layout: `<prefix>/CURRENT` names the version folder `<prefix>/v-<sha256 of the manifest>[:16]/`
holding the export's files and manifest; readers follow CURRENT (`read_current`).
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import boto3
import dagster as dg
import pytest
from dagster_aws.s3 import S3Resource

from mock_pipeline.domains.commerce import COMMERCE
from mock_pipeline.publish.object_store import content_type
from mock_pipeline.publish.s3 import (
    BucketS3UploadResource,
    LocalS3UploadResource,
    PublishError,
    S3UploadResource,
    s3_upload_asset,
    s3_upload_from_env,
    upload_export,
    upload_prefix,
)
from mock_pipeline.resources import DataDirResource, ScenarioResource
from mock_pipeline_tests.helpers import materialization_metadata, materialize_domain
from mock_pipeline_tests.s3_layout import layout, sha256, version, write_export

ACCESS_KEY = "AKIAMOCKPIPELINETEST"
SECRET_KEY = "mock-pipeline-secret-7f3a91c2d4"
REGION = "us-east-1"
AS_OF = "2024-06-30"
TINY = {"commerce.products_per_tenant": 40, "commerce.orders_per_tenant": 120, "commerce.customers_per_tenant": 20}

pytestmark = pytest.mark.integration


# --- a tiny real dataset, exported once per module -------------------------------------------------
@pytest.fixture(scope="module")
def scenario() -> ScenarioResource:
    return ScenarioResource(as_of=AS_OF, overrides=TINY)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, scenario: ScenarioResource) -> Path:
    """A data folder holding commerce's tables, checked, and its CSV export; returns the data root."""
    root = tmp_path_factory.mktemp("s3") / "data"
    assert materialize_domain(COMMERCE, root, scenario).success
    return root


def export_folder(root: Path, scenario: ScenarioResource) -> Path:
    return DataDirResource(root=str(root)).export(scenario.resolve(), "commerce")


def expected_prefix(scenario: ScenarioResource) -> str:
    # Seed 002's generation_<YYYYMMDD_HHMMSS>: the as-of day's last second, plus the config's fingerprint.
    return f"datasets/generation_20240630_235959_{scenario.resolve().fingerprint}/commerce/"


def upload(
    root: Path, scenario: ScenarioResource, s3_upload: S3UploadResource, instance: dg.DagsterInstance | None = None
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [s3_upload_asset(COMMERCE)],
        resources={"scenario": scenario, "data_dir": DataDirResource(root=str(root)), "s3_upload": s3_upload},
        instance=instance,
        raise_on_error=False,
    )


# --- a recording, refusing proxy in front of moto --------------------------------------------------
class Proxy:
    """Forwards HTTP to `upstream`, records (method, key, status) and refuses what `refuse` says."""

    def __init__(self, upstream: str, refuse: Callable[[str, str], bool] = lambda m, k: False) -> None:
        self.upstream = urlsplit(upstream)
        self.refuse = refuse
        self.seen: list[tuple[str, str, int]] = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _body(self) -> bytes:
                if "chunked" in self.headers.get("Transfer-Encoding", ""):
                    out = bytearray()
                    while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                        out += self.rfile.read(size)
                        self.rfile.readline()
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _reply(self, status: int, headers: list[tuple[str, str]], body: bytes, length: str | None) -> None:
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", length if length is not None else str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _handle(self) -> None:
                body = self._body()
                key = unquote(urlsplit(self.path).path).lstrip("/").partition("/")[2]
                with proxy.lock:
                    refused = proxy.refuse(self.command, key)
                if refused:
                    error = (
                        b"<Error><Code>ServiceUnavailable</Code><Message>refused by the test proxy</Message></Error>"
                    )
                    self._reply(503, [("Content-Type", "application/xml")], error, None)
                    status = 503
                else:
                    conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=30)
                    drop = {"transfer-encoding", "content-length", "connection", "expect"}
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in drop}
                    headers["Content-Length"] = str(len(body))
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                    keep = [(k, v) for k, v in resp.getheaders() if k.lower() not in drop]
                    length = resp.getheader("Content-Length") if self.command == "HEAD" else None
                    self._reply(resp.status, keep, data, length)
                    conn.close()
                    status = resp.status
                with proxy.lock:
                    proxy.seen.append((self.command, key, status))

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Proxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def puts(self) -> list[tuple[str, int]]:
        return [(k, s) for m, k, s in self.seen if m in ("PUT", "POST") and k]


@pytest.fixture
def bucket(s3_endpoint: str, request: pytest.FixtureRequest) -> str:
    name = "mock-" + request.node.name.replace("_", "-")[:40].lower().strip("-")
    client(s3_endpoint).create_bucket(Bucket=name)
    return name


def client(endpoint: str):  # a boto3 client
    return boto3.client(
        "s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY
    )


def bucket_resource(endpoint: str, bucket: str, **kwargs: object) -> BucketS3UploadResource:
    s3 = S3Resource(
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        max_attempts=int(kwargs.pop("max_attempts", 5)),  # type: ignore[arg-type]
    )
    return BucketS3UploadResource(bucket=bucket, s3=s3, **kwargs)  # type: ignore[arg-type]


def remote_objects(endpoint: str, bucket: str, prefix: str = "") -> dict[str, bytes]:
    c = client(endpoint)
    keys = [o["Key"] for o in c.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]
    return {k: c.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys}


# --- the embedded default ---------------------------------------------------------------------------
def test_local_default_is_laid_out_as_the_bucket(exported: Path, scenario: ScenarioResource) -> None:
    export = export_folder(exported, scenario)
    result = upload(exported, scenario, LocalS3UploadResource())
    assert result.success

    bucket_root = exported / "s3" / "mock-pipeline"
    prefix = expected_prefix(scenario)
    written = {p.relative_to(bucket_root).as_posix() for p in bucket_root.rglob("*") if p.is_file()}
    assert written == layout(prefix, export)
    for p in export.iterdir():
        assert sha256((bucket_root / prefix / version(export) / p.name).read_bytes()) == sha256(p.read_bytes())
    pointer = json.loads((bucket_root / prefix / "CURRENT").read_bytes())
    assert pointer["version"] == version(export) and pointer["previous"] is None
    meta = materialization_metadata(result)
    assert meta["destination"] == "local"
    assert meta["dagster/uri"] == (bucket_root / prefix).as_uri() + "/"
    assert meta["uploaded"] == len(written) and meta["skipped_unchanged"] == 0
    assert meta["dagster/row_count"] == sum(json.loads((export / "manifest.json").read_text())["tables"].values())
    assert not any(p.name.startswith(".") for p in (exported / "s3").rglob("*") if p.is_file())

    again = upload(exported, scenario, LocalS3UploadResource())
    assert again.success
    meta = materialization_metadata(again)
    assert (meta["uploaded"], meta["skipped_unchanged"], meta["bytes_uploaded"]) == (0, len(written), 0)


def test_prefix_is_fixed_by_the_scenario_not_the_clock() -> None:
    resolved = ScenarioResource(profile="peak-season", seed=7, as_of="2024-03-31", run_tag="demo").resolve()
    template = "{profile}/{size}/{seed}/{run_tag}/{dataset_id}/generation_{timestamp}_{fingerprint}"
    assert upload_prefix(template, resolved, "scrum") == (
        f"peak-season/small/7/demo/{resolved.dataset_id}/generation_20240331_235959_{resolved.fingerprint}/scrum/"
    )
    assert upload_prefix("/datasets/", resolved, "erp") == "datasets/erp/"
    for bad in ("", "a/../b", "{nope}", "{timestamp"):
        with pytest.raises(PublishError, match="s3 prefix"):
            upload_prefix(bad, resolved, "erp")


def test_bad_prefix_and_missing_export_fail_before_writing(
    tmp_path: Path, exported: Path, scenario: ScenarioResource
) -> None:
    bad = upload(exported, scenario, LocalS3UploadResource(prefix="datasets/{when}", bucket="bad"))
    assert not bad.success
    [failure] = [e for e in bad.all_events if e.is_step_failure]
    message = failure.step_failure_data.error.message
    assert "{when}" in message and "{timestamp}" in message
    assert not (exported / "s3" / "bad").exists()

    empty = upload(tmp_path / "empty", scenario, LocalS3UploadResource())
    assert not empty.success
    assert not (tmp_path / "empty" / "s3").exists()


# --- a real S3 API over HTTP ------------------------------------------------------------------------
def test_upload_to_s3_lists_matches_and_puts_manifest_last(
    s3_endpoint: str,
    bucket: str,
    exported: Path,
    scenario: ScenarioResource,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    export = export_folder(exported, scenario)
    prefix = expected_prefix(scenario)
    instance = dg.DagsterInstance.ephemeral()
    with Proxy(s3_endpoint) as proxy:
        result = upload(exported, scenario, bucket_resource(proxy.url, bucket), instance)
        assert result.success
        first_puts = proxy.puts()

    objects = remote_objects(s3_endpoint, bucket)
    folder = prefix + version(export)
    assert set(objects) == layout(prefix, export)
    for p in export.iterdir():
        assert sha256(objects[folder + p.name]) == sha256(p.read_bytes()), p.name
    # The version's manifest after every data file, and CURRENT, the one object readers follow, last.
    assert first_puts[-2:] == [(folder + "manifest.json", 200), (prefix + "CURRENT", 200)]
    assert {k for k, _ in first_puts} == set(objects)
    pointer = json.loads(objects[prefix + "CURRENT"])
    assert pointer["manifest"] == version(export) + "manifest.json"
    assert pointer["manifest_sha256"] == sha256((export / "manifest.json").read_bytes())

    c = client(s3_endpoint)
    head = c.head_object(Bucket=bucket, Key=folder + "orders_1_chunk_0000.csv")
    assert head["Metadata"]["sha256"] == sha256(objects[folder + "orders_1_chunk_0000.csv"])
    assert head["ContentType"] == "text/csv"
    for key in (folder + "manifest.json", prefix + "CURRENT"):
        grants = c.get_object_acl(Bucket=bucket, Key=key)["Grants"]
        assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]  # private: the owner only
        assert all("URI" not in g["Grantee"] for g in grants)

    meta = materialization_metadata(result)
    assert meta["dagster/uri"] == f"s3://{bucket}/{prefix}"
    assert meta["manifest"] == f"s3://{bucket}/{folder}manifest.json"
    assert meta["pointer"] == f"s3://{bucket}/{prefix}CURRENT"
    assert meta["uploaded"] == len(objects)
    assert meta["bytes_uploaded"] == sum(len(v) for v in objects.values())

    # Nothing secret anywhere: event log (metadata and messages), Python logs, stdout, files, objects.
    entries = "\n".join(str(e) for e in instance.all_logs(result.run_id))
    captured = capsys.readouterr()
    local_files = b"".join(p.read_bytes() for p in exported.rglob("*") if p.is_file())
    for text in (entries, caplog.text, captured.out, captured.err, json.dumps(meta, default=str)):
        assert SECRET_KEY not in text
    assert ACCESS_KEY not in entries and ACCESS_KEY not in json.dumps(meta, default=str)
    assert SECRET_KEY.encode() not in local_files and SECRET_KEY.encode() not in b"".join(objects.values())
    assert "Retrying" not in entries  # sanity: this run needed no retries


def test_rerun_is_idempotent_and_sends_no_data(
    s3_endpoint: str, bucket: str, exported: Path, scenario: ScenarioResource
) -> None:
    assert upload(exported, scenario, bucket_resource(s3_endpoint, bucket)).success
    before = {k: sha256(v) for k, v in remote_objects(s3_endpoint, bucket).items()}
    with Proxy(s3_endpoint) as proxy:
        again = upload(exported, scenario, bucket_resource(proxy.url, bucket))
    assert again.success
    assert proxy.puts() == []  # no object written, none deleted
    assert not [m for m, _, _ in proxy.seen if m == "DELETE"]
    assert {k: sha256(v) for k, v in remote_objects(s3_endpoint, bucket).items()} == before
    meta = materialization_metadata(again)
    assert (meta["uploaded"], meta["skipped_unchanged"]) == (0, len(before))


def test_upload_retries_after_the_server_refuses_once(
    s3_endpoint: str, bucket: str, exported: Path, scenario: ScenarioResource
) -> None:
    refused: list[str] = []

    def refuse_first_put(method: str, key: str) -> bool:
        if method == "PUT" and not refused:
            refused.append(key)
            return True
        return False

    with Proxy(s3_endpoint, refuse_first_put) as proxy:
        result = upload(exported, scenario, bucket_resource(proxy.url, bucket))
    assert result.success
    [key] = refused
    assert [s for k, s in proxy.puts() if k == key] == [503, 200]  # refused, then retried and accepted
    export = export_folder(exported, scenario)
    objects = remote_objects(s3_endpoint, bucket)
    folder = expected_prefix(scenario) + version(export)
    assert {k: sha256(v) for k, v in objects.items() if not k.endswith("/CURRENT")} == {
        folder + p.name: sha256(p.read_bytes()) for p in export.iterdir()
    }


def test_failure_half_way_leaves_no_manifest(
    s3_endpoint: str, bucket: str, exported: Path, scenario: ScenarioResource
) -> None:
    victim = "orders_2_chunk_0000.csv"
    with Proxy(s3_endpoint, lambda m, k: m == "PUT" and k.endswith(victim)) as proxy:
        result = upload(exported, scenario, bucket_resource(proxy.url, bucket, max_attempts=2))
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert "S3 upload of commerce failed" in failure.step_failure_data.error.message
    assert victim in failure.step_failure_data.error.message
    # Bounded: botocore's max_attempts counts retries, so 2 means the first request and 2 more.
    assert [s for k, s in proxy.puts() if k.endswith(victim)] == [503, 503, 503]
    keys = set(remote_objects(s3_endpoint, bucket))
    assert keys  # some files went up...
    assert not any(k.endswith("CURRENT") for k in keys)  # ...but no reader is sent to them


def test_large_file_goes_up_as_multipart(s3_endpoint: str, bucket: str, tmp_path: Path) -> None:
    big = bytes(range(256)) * (6 * 1024 * 4)  # 6 MiB
    export = write_export(tmp_path / "export", {"big.parquet": big, "small.csv": b"x\n", "same.csv": b"s\n"})
    store = bucket_resource(s3_endpoint, bucket, multipart_threshold_mb=5, multipart_chunksize_mb=5).open_store(
        tmp_path
    )
    upload_export(export, store, "p/commerce/")
    c = client(s3_endpoint)
    folder = "p/commerce/" + version(export)
    assert c.head_object(Bucket=bucket, Key=folder + "big.parquet")["ETag"].strip('"').endswith("-2")  # 2 parts
    assert "-" not in c.head_object(Bucket=bucket, Key=folder + "small.csv")["ETag"]
    assert sha256(c.get_object(Bucket=bucket, Key=folder + "big.parquet")["Body"].read()) == sha256(big)

    # The next version keeps big.parquet and same.csv: copied inside the bucket (multipart copy for the
    # big one, one CopyObject for the small one), never re-sent.
    export = write_export(tmp_path / "export", {"big.parquet": big, "small.csv": b"y\n", "same.csv": b"s\n"})
    result = upload_export(export, store, "p/commerce/")
    folder = "p/commerce/" + version(export)
    assert result.copied == [folder + "big.parquet", folder + "same.csv"] and result.bytes_uploaded < 1024
    for key, data in ((folder + "big.parquet", big), (folder + "same.csv", b"s\n")):
        head = c.head_object(Bucket=bucket, Key=key)
        assert head["Metadata"]["sha256"] == sha256(data) and head["ContentType"] == content_type(Path(key))
        assert sha256(c.get_object(Bucket=bucket, Key=key)["Body"].read()) == sha256(data)
    assert c.head_object(Bucket=bucket, Key=folder + "big.parquet")["ETag"].strip('"').endswith("-2")


def test_configured_from_environment(
    s3_endpoint: str, bucket: str, exported: Path, scenario: ScenarioResource, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "MOCK_PIPELINE_S3_BUCKET",
        "MOCK_PIPELINE_S3_PREFIX",
        "MOCK_PIPELINE_S3_ENDPOINT_URL",
        "MOCK_PIPELINE_S3_ACL",
    ):
        monkeypatch.delenv(name, raising=False)
    assert isinstance(s3_upload_from_env(), LocalS3UploadResource)

    monkeypatch.setenv("MOCK_PIPELINE_S3_BUCKET", bucket)
    monkeypatch.setenv("MOCK_PIPELINE_S3_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("MOCK_PIPELINE_S3_PREFIX", "exports/{dataset_id}")
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("MOCK_PIPELINE_S3_ACL", "")  # no ACL sent, as for a bucket with ACLs disabled
    resource = s3_upload_from_env()
    assert isinstance(resource, BucketS3UploadResource)
    result = upload(exported, scenario, resource)
    assert result.success
    prefix = f"exports/{scenario.resolve().dataset_id}/commerce/"
    assert set(remote_objects(s3_endpoint, bucket)) == layout(prefix, export_folder(exported, scenario))
    meta = materialization_metadata(result)
    assert meta["endpoint"] == s3_endpoint and SECRET_KEY not in json.dumps(meta, default=str)


def test_one_upload_per_domain_after_its_export() -> None:
    from mock_pipeline.definitions import DOMAINS, defs

    graph = defs.resolve_asset_graph()
    for domain in DOMAINS:
        node = graph.get(dg.AssetKey([domain.name, "s3_upload"]))
        assert node.parent_keys == {dg.AssetKey([domain.name, "exported_files"])}
        assert node.group_name == domain.name
    assert isinstance(defs.resources["s3_upload"], S3UploadResource)
