"""Publishing that no crash can half-do: SIGKILL at every step of the swap, of the S3 upload and of
the database load, then a look at what a reader would see, then a re-run.

The kill is real: a child process installs an audit hook (PEP 578) that counts the file-system
calls the publishing makes (open, mkdir, rename, unlink, rmtree, the renameat2 call through ctypes,
flock...) or the S3 requests it sends, and SIGKILLs itself just before the N-th one, for every N.
"""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import boto3
import psycopg2
import pytest
from boto3.s3.transfer import TransferConfig

from mock_pipeline.publish import swap
from mock_pipeline.publish.s3 import S3ObjectStore, upload_export
from mock_pipeline.publish.swap import recover, replace_dir

OLD = {"a.txt": "old a\n", "manifest.json": '{"version": "old"}\n'}
NEW = {"a.txt": "new a\n", "b/c.txt": "new c\n" * 100, "manifest.json": '{"version": "new"}\n'}


def write_tree(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)


def read_tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def run_child(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script), *args], capture_output=True, text=True,
                          timeout=300)  # fmt: skip


# A child that publishes NEW into argv[1] with replace_dir and SIGKILLs itself before audit event argv[2].
SWAP_CHILD = """
    import os, signal, sys
    from pathlib import Path
    from mock_pipeline.publish.swap import replace_dir

    FS_EVENTS = {"open", "os.mkdir", "os.rename", "os.remove", "os.rmdir", "shutil.rmtree", "os.scandir",
                 "os.listdir", "ctypes.call_function", "fcntl.flock", "os.chmod", "os.truncate"}
    target, kill_at = Path(sys.argv[1]), int(sys.argv[2])
    NEW = {"a.txt": "new a\\n", "b/c.txt": "new c\\n" * 100, "manifest.json": '{"version": "new"}\\n'}
    seen = 0
    active = False

    def hook(event, args):
        global seen
        if active and event in FS_EVENTS:
            if seen == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            seen += 1

    def build(staging):
        for name, text in NEW.items():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).write_text(text)

    sys.addaudithook(hook)
    active = True
    replace_dir(target, build)
    active = False
    print(seen)
"""


def test_replace_dir_swaps_and_a_failed_build_changes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "exports" / "commerce"
    replace_dir(target, lambda s: write_tree(s, OLD))
    assert read_tree(target) == OLD
    replace_dir(target, lambda s: write_tree(s, NEW))
    assert read_tree(target) == NEW

    def broken(staging: Path) -> None:
        write_tree(staging, OLD)
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        replace_dir(target, broken)
    assert read_tree(target) == NEW
    assert sorted(p.name for p in target.parent.iterdir()) == ["commerce"]  # no staging, no lock left


def test_exchange_is_one_atomic_call_here(tmp_path: Path) -> None:
    """The swap this machine uses: renameat2(RENAME_EXCHANGE), not the two-rename fallback."""
    a, b = tmp_path / "a", tmp_path / "b"
    write_tree(a, {"x": "a"})
    write_tree(b, {"x": "b"})
    assert swap.exchange(a, b)
    assert (read_tree(a), read_tree(b)) == ({"x": "b"}, {"x": "a"})


def test_sigkill_at_every_step_of_the_swap_leaves_old_or_new_and_a_rerun_gives_the_same_bytes(tmp_path: Path) -> None:
    probe = tmp_path / "probe" / "commerce"
    replace_dir(probe, lambda s: write_tree(s, OLD))
    steps = int(run_child(SWAP_CHILD, str(probe), "-1").stdout)  # an uninterrupted run counts its steps
    assert read_tree(probe) == NEW and steps > 10

    outcomes = set()
    for kill_at in range(steps + 1):
        target = tmp_path / f"k{kill_at}" / "commerce"
        replace_dir(target, lambda s: write_tree(s, OLD))
        child = run_child(SWAP_CHILD, str(target), str(kill_at))
        assert child.returncode == (-signal.SIGKILL if kill_at < steps else 0), child.stderr
        seen = read_tree(target)  # what a reader finds right after the kill
        assert seen in (OLD, NEW), f"killed before step {kill_at}: {seen}"
        outcomes.add("new" if seen == NEW else "old")
        replace_dir(target, lambda s: write_tree(s, NEW))  # the re-run tidies and publishes
        assert read_tree(target) == NEW
        assert sorted(p.name for p in target.parent.iterdir()) == ["commerce"], f"leftovers after step {kill_at}"
    assert outcomes == {"old", "new"}  # the kills landed on both sides of the one swap


def test_a_live_runs_staging_is_never_removed_a_dead_ones_is(tmp_path: Path) -> None:
    target = tmp_path / "exports" / "commerce"
    replace_dir(target, lambda s: write_tree(s, OLD))
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import sys, time
        from pathlib import Path
        from mock_pipeline.publish.swap import replace_dir

        def build(staging):
            (staging / "big.bin").write_bytes(b"x" * 1_000_000)
            print(staging, flush=True)
            time.sleep(600)

        replace_dir(Path(sys.argv[1]), build)
    """), str(target)], stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        staging = Path(child.stdout.readline().strip())
        assert staging.is_dir()
        assert recover(target) == []  # a live run's staging stays
        replace_dir(target, lambda s: write_tree(s, NEW))  # another run publishes meanwhile
        assert staging.is_dir() and (staging / "big.bin").stat().st_size == 1_000_000
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert recover(target) == [staging]  # dead now: removed, lock file too
    assert sorted(p.name for p in target.parent.iterdir()) == ["commerce"]
    assert read_tree(target) == NEW


def test_the_previous_versions_half_swap_is_repaired(tmp_path: Path) -> None:
    """What the issue found after a kill between the two renames: no `commerce`, only the parked
    previous folder and a staging folder of a dead process."""
    parent = tmp_path / "exports" / "ds"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    write_tree(parent / f".commerce.{pid}.old", OLD)
    write_tree(parent / f".commerce.{pid}.staging", NEW)
    recover(parent / "commerce")
    assert read_tree(parent / "commerce") == OLD  # readers find the previous export again
    assert sorted(p.name for p in parent.iterdir()) == ["commerce"]


# --- S3: SIGKILL before every request of the upload --------------------------------------------------
S3_CHILD = """
    import os, signal, sys
    from pathlib import Path
    import boto3
    from boto3.s3.transfer import TransferConfig
    from mock_pipeline.publish.s3 import S3ObjectStore, upload_export

    endpoint, bucket, root, kill_at = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    seen = 0

    def before_send(**kwargs):
        global seen
        if seen == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        seen += 1

    client.meta.events.register("before-send.s3.*", before_send)
    upload_export(root, S3ObjectStore(client, bucket, TransferConfig(), acl=None), "mock/commerce/")
    print(seen)
"""


def export_folder(folder: Path, version: str) -> Path:
    """A files export as exported_files writes it: files, then a manifest listing them."""
    files = {f"orders/part-{i}.csv": f"{version},{i}\n" * (i + 1) for i in range(4)}
    if version == "new":
        files["returns/part-0.csv"] = "new returns\n"
    write_tree(folder, files)
    entries = [{"path": p, "bytes": len(t.encode()), "sha256": hashlib.sha256(t.encode()).hexdigest()}
               for p, t in files.items()]  # fmt: skip
    (folder / "manifest.json").write_text(json.dumps({"files": entries, "tables": {"orders": 10}}))
    return folder


def bucket_view(client: object, bucket: str, prefix: str) -> dict[str, bytes]:
    listed = client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])  # type: ignore[attr-defined]
    return {o["Key"][len(prefix) :]: client.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}  # type: ignore[attr-defined]


def complete_or_absent(view: dict[str, bytes]) -> str:
    """What a reader following CURRENT gets: 'none' (nothing published) or the version it names,
    after checking that every file its manifest lists is there with its sha256."""
    if "CURRENT" not in view:
        return "none"
    pointer = json.loads(view["CURRENT"])
    manifest = view.get(pointer["manifest"])
    assert manifest is not None and hashlib.sha256(manifest).hexdigest() == pointer["manifest_sha256"]
    for entry in json.loads(manifest)["files"]:
        body = view.get(pointer["version"] + entry["path"])
        assert body is not None and hashlib.sha256(body).hexdigest() == entry["sha256"], entry["path"]
    return view[pointer["version"] + "orders/part-0.csv"].decode().split(",")[0]


@pytest.mark.integration
@pytest.mark.slow
def test_sigkill_at_every_s3_request_never_shows_a_half_export(tmp_path: Path, s3_endpoint: str) -> None:
    """Before each request of an upload that replaces `old` with `new` (and retires `first`, two
    versions back), the process dies; a reader following CURRENT always finds a whole export."""
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    first, old = export_folder(tmp_path / "first", "first"), export_folder(tmp_path / "old", "old")
    new = export_folder(tmp_path / "new", "new")

    def upload(bucket: str, export: Path, **kwargs: float) -> None:  # an uninterrupted run, in this process
        upload_export(export, S3ObjectStore(client, bucket, TransferConfig(), acl=None), "mock/commerce/", **kwargs)

    def fresh_bucket() -> str:
        bucket = f"k{uuid.uuid4().hex[:12]}"
        client.create_bucket(Bucket=bucket)
        upload(bucket, first)
        upload(bucket, old)
        return bucket

    probe = fresh_bucket()
    steps = int(run_child(S3_CHILD, s3_endpoint, probe, str(new), "-1").stdout)
    expected = bucket_view(client, probe, "mock/commerce/")
    assert complete_or_absent(expected) == "new" and steps > 5
    # CURRENT, the new version and the previous one (for readers still reading it); `first` is gone.
    assert len({k.split("/")[0] for k in expected}) == 3 and json.loads(expected["CURRENT"])["previous"]

    seen = set()
    for kill_at in range(steps):
        bucket = fresh_bucket()
        child = run_child(S3_CHILD, s3_endpoint, bucket, str(new), str(kill_at))
        assert child.returncode == -signal.SIGKILL, child.stderr
        seen.add(complete_or_absent(bucket_view(client, bucket, "mock/commerce/")))
        # The re-run; a grace of 0 s lets it collect what the killed run may have left unreferenced.
        upload(bucket, new, orphan_grace_seconds=0)
        assert bucket_view(client, bucket, "mock/commerce/") == expected, f"after a kill before request {kill_at}"
    # Never half, never nothing: the old export whole until the one PUT of CURRENT, then the new one.
    assert seen == {"old", "new"}


# --- database: SIGKILL at every step of the load --------------------------------------------------
DB_CHILD = """
    import os, signal, sys
    from pathlib import Path
    from mock_pipeline.domains.commerce import COMMERCE
    from mock_pipeline.publish import database as db

    url, dataset, kill_at = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    seen = 0

    def step(line):
        global seen
        if seen == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        seen += 1

    db.load_domain(db.PostgresTarget(url), "commerce", COMMERCE.tables, dataset, env={}, log=step,
                   dataset_id="d1")
    print(seen)
"""


@pytest.mark.integration
@pytest.mark.slow
def test_sigkill_at_every_step_of_the_database_load_keeps_the_previous_load(tmp_path: Path, postgres_url: str) -> None:
    from mock_pipeline.domains.commerce import COMMERCE
    from mock_pipeline.publish import database as db
    from mock_pipeline_tests.test_database_safety import TINY_COMMERCE, generate

    dataset = generate(COMMERCE, tmp_path / "data", overrides=TINY_COMMERCE)
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(postgres_url)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    url = postgres_url.rsplit("/", 1)[0] + f"/{name}"

    def snapshot() -> dict[str, int]:
        with psycopg2.connect(url) as con, con.cursor() as cur:
            cur.execute("SELECT to_regclass('mock_data.commerce_orders') IS NOT NULL")
            if not cur.fetchone()[0]:
                return {}
            counts = {}
            for t in COMMERCE.tables:
                cur.execute(f"SELECT count(*) FROM mock_data.commerce_{t.name}")
                counts[t.name] = cur.fetchone()[0]
            return counts

    steps = int(run_child(DB_CHILD, url, str(dataset), "-1").stdout)
    loaded = snapshot()
    assert steps > len(COMMERCE.tables) and all(loaded.values())
    for kill_at in range(steps):
        child = run_child(DB_CHILD, url, str(dataset), str(kill_at))
        assert child.returncode == -signal.SIGKILL, child.stderr
        deadline = time.monotonic() + 30  # the server notices the dead client and rolls back
        while True:
            cur = admin.cursor()
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'mock_pipeline'")
            if cur.fetchone()[0] == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert snapshot() == loaded, f"killed at step {kill_at}"  # the previous load, whole
    db.load_domain(db.PostgresTarget(url), "commerce", COMMERCE.tables, dataset, env={}, dataset_id="d1")  # re-run
    assert snapshot() == loaded
    admin.cursor().execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.close()
