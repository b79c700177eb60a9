"""Two runs at the same moment into one destination: both succeed with identical results, the later
one having waited for the earlier; a bounded wait ends in one line naming the other run.

Real processes (started together on a shared start time), a real DuckDB file, a real PostgreSQL
server, a real LanceDB folder and a real files-export folder.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import psycopg2
import pyarrow.parquet as pq
import pytest

from mock_pipeline.domains.commerce import COMMERCE
from mock_pipeline.publish import database as db
from mock_pipeline.publish.locks import Busy, hold
from mock_pipeline.publish.vectors import LanceDBStore
from mock_pipeline_tests.test_database_safety import TINY_COMMERCE, generate

LOAD_CHILD = """
    import sys, time
    from pathlib import Path
    from mock_pipeline.domains.commerce import COMMERCE
    from mock_pipeline.publish import database as db

    kind, where, dataset, go_at = sys.argv[1], sys.argv[2], Path(sys.argv[3]), float(sys.argv[4])
    target = db.DuckDBTarget(Path(where)) if kind == "duckdb" else db.PostgresTarget(where)
    time.sleep(max(0.0, go_at - time.time()))  # both processes start the load at the same moment
    result = db.load_domain(target, "commerce", COMMERCE.tables, dataset, env={}, dataset_id="same")
    print(result.rows)
"""

VECTOR_CHILD = """
    import sys, time
    import numpy as np
    import pyarrow as pa
    from pathlib import Path
    from mock_pipeline.publish.vectors import LanceDBStore, record_schema

    path, go_at = Path(sys.argv[1]), float(sys.argv[2])
    dim, n = 16, 200
    ids = [f"scrum:issues:{i}" for i in range(n)]
    vectors = np.random.default_rng(7).random((n, dim), dtype=np.float32)
    batch = pa.Table.from_arrays(
        [pa.array(ids), pa.array(["scrum"] * n), pa.array(["issues"] * n), pa.array(ids), pa.nulls(n, pa.int64()),
         pa.array(["ds"] * n), pa.array(ids), pa.array(["{}"] * n),
         pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), dim)],
        schema=record_schema(dim),
    )
    time.sleep(max(0.0, go_at - time.time()))
    print(LanceDBStore(path).sync("scrum_hashing16", dim, [batch]).written)
"""


def start_together(script: str, *args: str) -> list[subprocess.Popen[str]]:
    go_at = str(time.time() + 8)  # time enough for both interpreters to import everything
    return [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(script), *args, go_at],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]


def finish(children: list[subprocess.Popen[str]]) -> list[str]:
    outputs = []
    for child in children:
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err[-2000:]
        outputs.append(out.strip())
    return outputs


@pytest.fixture(scope="module")
def commerce(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(COMMERCE, tmp_path_factory.mktemp("commerce"), overrides=TINY_COMMERCE)


def expected_counts(dataset: Path) -> dict[str, int]:
    return {f"commerce_{t.name}": pq.read_metadata(dataset / t.name / "part-00000.parquet").num_rows
            for t in COMMERCE.tables}  # fmt: skip


@pytest.fixture
def pg(postgres_url: str) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(postgres_url)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
    admin.cursor().execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.close()


# --- databases ---------------------------------------------------------------------------------------
@pytest.mark.slow
def test_two_loads_into_one_duckdb_file_at_once_both_succeed(tmp_path: Path, commerce: Path) -> None:
    path = tmp_path / "database" / "mock_data.duckdb"
    rows = finish(start_together(LOAD_CHILD, "duckdb", str(path), str(commerce)))
    assert rows[0] == rows[1] == str(sum(expected_counts(commerce).values()))
    con = duckdb.connect()
    con.execute(f"ATTACH '{path}' AS loaded (READ_ONLY)")
    for table, n in expected_counts(commerce).items():
        assert con.execute(f"SELECT count(*) FROM loaded.mock_data.{table}").fetchone()[0] == n
    con.close()


@pytest.mark.integration
def test_two_loads_into_one_postgres_database_at_once_both_succeed(pg: str, commerce: Path) -> None:
    rows = finish(start_together(LOAD_CHILD, "postgres", pg, str(commerce)))
    assert rows[0] == rows[1] == str(sum(expected_counts(commerce).values()))
    with psycopg2.connect(pg) as con, con.cursor() as cur:
        for table, n in expected_counts(commerce).items():
            cur.execute(f"SELECT count(*) FROM mock_data.{table}")
            assert cur.fetchone()[0] == n


@pytest.mark.integration
def test_a_bounded_wait_for_postgres_ends_in_one_line_naming_the_other_run(pg: str, commerce: Path) -> None:
    other = psycopg2.connect(pg, application_name="the_other_run")
    other.cursor().execute(f"SELECT pg_advisory_lock({db.ADVISORY_LOCK_KEY})")
    try:
        with pytest.raises(db.LoadError) as err:
            db.load_domain(db.PostgresTarget(pg, lock_wait_seconds=1), "commerce", COMMERCE.tables, commerce, env={})
    finally:
        other.close()
    message = str(err.value)
    assert "\n" not in message
    assert "is busy: the_other_run (server pid" in message and "waited 1 s, nothing was written" in message
    with psycopg2.connect(pg) as con, con.cursor() as cur:
        cur.execute("SELECT to_regclass('mock_data.commerce_orders') IS NULL")
        assert cur.fetchone()[0]


@pytest.mark.slow
def test_a_bounded_wait_for_duckdb_ends_in_one_line_naming_the_other_process(tmp_path: Path, commerce: Path) -> None:
    path = tmp_path / "x.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import sys, time, duckdb
        con = duckdb.connect(sys.argv[1])
        print("holding", flush=True)
        time.sleep(600)
    """), str(path)], stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(db.LoadError) as err:
            db.load_domain(db.DuckDBTarget(path, lock_wait_seconds=1), "commerce", COMMERCE.tables, commerce, env={})
    finally:
        holder.kill()
        holder.wait()
    assert f"is busy: another process (PID {holder.pid})" in str(err.value)
    assert "waited 1 s, nothing was written" in str(err.value)


# --- vector store and local folders ----------------------------------------------------------------
@pytest.mark.slow
def test_two_vector_syncs_into_one_lancedb_collection_at_once_both_succeed(tmp_path: Path) -> None:
    path = tmp_path / "vectors" / "lancedb"
    written = finish(start_together(VECTOR_CHILD, str(path)))
    assert written == ["200", "200"]
    assert LanceDBStore(path).count("scrum_hashing16") == 200  # merged by id: no duplicates


@pytest.mark.slow
def test_a_held_lock_makes_the_other_run_wait_then_say_who_holds_it(tmp_path: Path) -> None:
    lock = tmp_path / ".collection.lock"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import sys, time
        from pathlib import Path
        from mock_pipeline.publish.locks import hold
        with hold(Path(sys.argv[1]), "x"):
            print("holding", flush=True)
            time.sleep(600)
    """), str(lock)], stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "holding"
        busy = rf"LanceDB table 'c' is busy: process {holder.pid} on .* since .*; waited 1 s"
        with pytest.raises(Busy, match=busy), hold(lock, "LanceDB table 'c'", wait_seconds=1):
            pass
    finally:
        holder.kill()
        holder.wait()
    with hold(lock, "LanceDB table 'c'", wait_seconds=1):  # the dead holder's lock went with it
        pass


EXPORT_CHILD = """
    import sys, time
    from pathlib import Path
    from mock_pipeline.publish.swap import replace_dir

    target, go_at = Path(sys.argv[1]), float(sys.argv[2])

    def build(staging):
        for i in range(50):
            (staging / f"part-{i:03d}.csv").write_text(f"row,{i}\\n" * 1000)
        (staging / "manifest.json").write_text('{"parts": 50}')

    time.sleep(max(0.0, go_at - time.time()))
    replace_dir(target, build)
    print("ok")
"""


@pytest.mark.slow
def test_two_exports_into_one_folder_at_once_both_succeed_with_identical_bytes(tmp_path: Path) -> None:
    target = tmp_path / "exports" / "ds" / "commerce"
    assert finish(start_together(EXPORT_CHILD, str(target))) == ["ok", "ok"]
    assert json.loads((target / "manifest.json").read_text()) == {"parts": 50}
    assert sorted(p.name for p in target.iterdir()) == ["manifest.json", *(f"part-{i:03d}.csv" for i in range(50))]
    assert all((target / f"part-{i:03d}.csv").read_text() == f"row,{i}\n" * 1000 for i in range(50))
    assert sorted(p.name for p in target.parent.iterdir()) == ["commerce"]  # no staging or lock left


S3_CHILD = """
    import sys, time
    from pathlib import Path
    import boto3
    from boto3.s3.transfer import TransferConfig
    from mock_pipeline.publish.s3 import S3ObjectStore, upload_export

    endpoint, bucket, root, go_at = sys.argv[1], sys.argv[2], Path(sys.argv[3]), float(sys.argv[4])
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    time.sleep(max(0.0, go_at - time.time()))
    upload_export(root, S3ObjectStore(client, bucket, TransferConfig(), acl=None), "mock/commerce/")
    print("ok")
"""


@pytest.mark.integration
def test_two_s3_uploads_of_one_export_at_once_both_succeed_with_the_same_objects(
    tmp_path: Path, s3_endpoint: str
) -> None:
    import boto3

    from mock_pipeline_tests.test_swap import bucket_view, complete_or_absent, export_folder

    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    bucket = f"c{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    export = export_folder(tmp_path / "export", "new")
    assert finish(start_together(S3_CHILD, s3_endpoint, bucket, str(export))) == ["ok", "ok"]
    view = bucket_view(client, bucket, "mock/commerce/")
    assert complete_or_absent(view) == "new"  # CURRENT names a version whose every file matches its manifest
    version = "v-" + hashlib.sha256((export / "manifest.json").read_bytes()).hexdigest()[:16] + "/"
    files = {version + p.relative_to(export).as_posix() for p in export.rglob("*") if p.is_file()}
    assert set(view) == {"CURRENT"} | files  # one version: both runs wrote the same objects
    assert json.loads(view["CURRENT"])["previous"] is None


# --- HTTP: a real API on loopback -----------------------------------------------------------------
HTTP_CHILD = """
    import json, sys, time
    from pathlib import Path
    from mock_pipeline.domains.commerce import COMMERCE
    from mock_pipeline.publish.http import ApiHttpUploadResource, upload_records

    data_dir, dataset, url, key, go_at = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5])
    api = ApiHttpUploadResource(api_url=url, api_key=key, batch_size=50, backoff_seconds=0.01)
    time.sleep(max(0.0, go_at - time.time()))
    report = api.deliver(data_dir, "same", "commerce",
                         lambda sink: upload_records(dataset, COMMERCE.tables, sink, "commerce", "same", 50))
    print(json.dumps({"rows": report.rows, "accepted": report.accepted, "requests": report.requests}))
"""


@pytest.mark.integration
def test_two_http_uploads_of_one_dataset_at_once_do_not_interleave_and_agree(tmp_path: Path, commerce: Path) -> None:
    """The later run waits for the earlier, then posts again: the server sees one whole upload, then
    the same one again (deduplicated by Idempotency-Key), never batches of the two mixed."""
    from mock_pipeline_tests.test_http_upload import API_KEY, RecordingApi

    with RecordingApi(delay_seconds=0.01) as api:
        results = finish(start_together(HTTP_CHILD, str(tmp_path / "data"), str(commerce), api.url, API_KEY))
    first, second = (json.loads(r) for r in results)
    assert first == second and first["rows"] == sum(expected_counts(commerce).values())
    n = first["requests"]
    assert len(api.arrivals) == 2 * n and api.arrivals[:n] == api.arrivals[n:]  # one run after the other
    assert api.arrivals[n - 1] == "same/commerce/manifest" and len(set(api.arrivals)) == n
    # Each record kept once, as after a single upload (this API refuses tenant 2's price history).
    kept = {f"commerce_{t}": len(records) for t, records in api.records.items()}
    for table, rows in expected_counts(commerce).items():
        assert kept.get(table, 0) == rows or (table == "commerce_price_history" and 0 < kept[table] < rows), table


@pytest.mark.integration
def test_a_bounded_wait_for_the_http_api_ends_in_one_line_naming_the_other_run(tmp_path: Path, commerce: Path) -> None:
    from mock_pipeline.publish.http import ApiHttpUploadResource, api_lock_file, upload_records
    from mock_pipeline_tests.test_http_upload import API_KEY, RecordingApi

    with RecordingApi() as api:
        lock = api_lock_file(tmp_path / "data", api.url, "commerce")
        holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
            import sys, time
            from pathlib import Path
            from mock_pipeline.publish.locks import hold
            with hold(Path(sys.argv[1]), "x"):
                print("holding", flush=True)
                time.sleep(600)
        """), str(lock)], stdout=subprocess.PIPE, text=True)  # fmt: skip
        try:
            assert holder.stdout.readline().strip() == "holding"
            resource = ApiHttpUploadResource(api_url=api.url, api_key=API_KEY, lock_wait_seconds=1)
            with pytest.raises(Busy) as err:
                resource.deliver(tmp_path / "data", "same", "commerce",
                                 lambda sink: upload_records(commerce, COMMERCE.tables, sink, "commerce", "same", 50))  # fmt: skip
        finally:
            holder.kill()
            holder.wait()
        assert api.arrivals == []  # nothing was posted
    message = str(err.value)
    assert "\n" not in message and API_KEY not in message
    assert message.startswith(f"HTTP upload of commerce to {api.url} is busy: process {holder.pid} on ")
    assert "waited 1 s, nothing was written" in message
