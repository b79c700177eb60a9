"""Seed 004's data API, served by `mock-pipeline serve` (uvicorn on loopback), read with a real HTTP client.

The expected bytes are always what the files export asset wrote in the same session, never
copied output: pages joined equal the export's files, for every format.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import pytest

from mock_pipeline.api.catalog import COMMERCE_ALIASES, domains
from mock_pipeline.api.server import ServeError, api_key_for
from mock_pipeline.domains.factory import Domain, materialize_table
from mock_pipeline.publish.assets import exported_files_asset
from mock_pipeline.resources import DataDirResource, ScenarioResource
from mock_pipeline.scenarios.model import build_scenario
from mock_pipeline_tests.servers import free_port

pytestmark = pytest.mark.integration

SCENARIO = {"profile": "normal-ops", "size": "small", "seed": 42, "as_of": "2024-12-31"}
QUERY = "seed=42"  # profile, size and as_of are the defaults
FORMATS = ("csv", "json", "ndjson", "xml")
CLI = [sys.executable, "-m", "mock_pipeline.cli"]


# --- servers and data ------------------------------------------------------------------------
@contextmanager
def api_server(data: Path, env: dict[str, str] | None = None) -> Iterator[tuple[str, Path]]:
    """`mock-pipeline serve` on a free loopback port; yields its base URL and its log file."""
    port = free_port()
    log = data.parent / f"serve-{port}.log"
    environment = {**os.environ, "MOCK_PIPELINE_API_KEY": "", **(env or {})}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*CLI, "serve", "--port", str(port), "--data-dir", str(data)], stdout=out, stderr=subprocess.STDOUT,
            env=environment,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"serve did not start: {log.read_text()}") from None
                time.sleep(0.2)
        yield base, log
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _export(domain: Domain, data: Path, fmt: str, keep: Path) -> Path:
    """Run the files export asset in `fmt` and keep a copy of what it wrote."""
    result = dg.materialize(
        [exported_files_asset(domain)],
        resources={"scenario": ScenarioResource(**SCENARIO), "data_dir": DataDirResource(root=str(data))},
        run_config={"ops": {f"{domain.name}__exported_files": {"config": {"format": fmt}}}},
    )
    [event] = result.get_asset_materialization_events()
    root = Path(str(event.materialization.metadata["dagster/uri"].value))
    copy = keep / domain.name / fmt
    shutil.copytree(root, copy)
    return copy


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every domain's tables materialised (by the assets' own table writer) and exported in each format."""
    base = tmp_path_factory.mktemp("api")
    data = base / "data"
    scenario = build_scenario(**SCENARIO)
    exports: dict[tuple[str, str], Path] = {}
    for domain in domains().values():
        dataset = DataDirResource(root=str(data)).dataset(scenario, domain.name)
        for spec in domain.tables:
            materialize_table(domain, spec, scenario, dataset)
        for fmt in FORMATS:
            exports[(domain.name, fmt)] = _export(domain, data, fmt, base / "exports")
    empty = base / "empty"
    empty.mkdir()
    return {"data": data, "empty": empty, "exports": exports, "dataset_id": scenario.dataset_id}


@pytest.fixture(scope="module")
def materialised(world: dict[str, Any]) -> Iterator[str]:
    with api_server(world["data"]) as (base, _):
        yield base


@pytest.fixture(scope="module")
def on_demand(world: dict[str, Any]) -> Iterator[str]:
    """A server over an empty data folder: every generated table is computed on demand."""
    with api_server(world["empty"]) as (base, _):
        yield base


# --- documents as records ---------------------------------------------------------------------
def records(fmt: str, document: bytes) -> bytes:
    """A document's rows without its framing (CSV header, JSON brackets, XML declaration and root)."""
    if fmt == "csv":
        return document.split(b"\n", 1)[1]
    if fmt == "json":
        assert document.startswith(b"[\n") and document.endswith(b"\n]\n")
        return document[2:-3]
    if fmt == "xml":
        body = document.split(b"\n", 2)[2]
        return body[: body.rindex(b"</")]
    return document


def joined(fmt: str, parts: list[bytes]) -> bytes:
    return (b",\n" if fmt == "json" else b"").join(p for p in parts if p)


def export_records(folder: Path, table: str, fmt: str) -> tuple[bytes, int]:
    manifest = json.loads((folder / "manifest.json").read_text())
    files = [f for f in manifest["files"] if f["table"] == table]
    return joined(fmt, [records(fmt, (folder / f["path"]).read_bytes()) for f in files]), manifest["tables"][table]


def all_pages(client: httpx.Client, url: str, fmt: str) -> tuple[list[bytes], list[httpx.Response]]:
    """Follow Link rel="next" from `url` to the last page."""
    documents, responses = [], []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.text
        responses.append(response)
        documents.append(response.content)
        link = response.headers.get("link")
        url = link[1 : link.index(">")] if link else ""
        if link:
            assert link.endswith('; rel="next"')
    return documents, responses


def two_tables(domain: Domain) -> list[str]:
    """The domain's largest generated table (several pages) and a mid-sized one."""
    scenario = build_scenario(**SCENARIO)
    model = domain.model(scenario)
    generated = sorted((t for t in domain.tables if t.build is not None), key=lambda t: t.slots(model))
    return [generated[-1].name, generated[len(generated) // 2].name]


# --- tests ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
def test_pages_joined_equal_the_export_files(world: dict[str, Any], materialised: str, fmt: str) -> None:
    with httpx.Client(timeout=60) as client:
        for name, domain in domains().items():
            for table in two_tables(domain):
                want, rows = export_records(world["exports"][(name, fmt)], table, fmt)
                url = f"{materialised}/api/v1/{name}/{table}?format={fmt}&limit=7000&{QUERY}"
                documents, responses = all_pages(client, url, fmt)
                assert {r.headers["x-total-count"] for r in responses} == {str(rows)}
                assert len(responses) == max(1, -(-rows // 7000))
                assert joined(fmt, [records(fmt, d) for d in documents]) == want, (name, table)
                if fmt == "csv":  # each page is a whole CSV file: the export's header first
                    folder = world["exports"][(name, fmt)]
                    manifest = json.loads((folder / "manifest.json").read_text())
                    first = next(f["path"] for f in manifest["files"] if f["table"] == table)
                    header = (folder / first).read_bytes().split(b"\n", 1)[0]
                    assert {d.split(b"\n", 1)[0] for d in documents} == {header}


def test_on_demand_pages_equal_materialised_pages(world: dict[str, Any], materialised: str, on_demand: str) -> None:
    with httpx.Client(timeout=120) as client:
        for name, domain in domains().items():
            for spec in domain.tables:
                path = f"/api/v1/{name}/{spec.name}"
                if spec.build is None:
                    refused = client.get(f"{on_demand}{path}?{QUERY}")
                    assert refused.status_code == 409
                    assert "dagster asset materialize" in refused.text and refused.text.count("\n") == 1
                    continue
                total = int(client.get(f"{materialised}{path}?limit=1&{QUERY}").headers["x-total-count"])
                for offset in sorted({0, total // 2, max(0, total - 3)}):
                    for fmt in ("ndjson", "csv"):
                        query = f"?format={fmt}&limit=2500&offset={offset}&{QUERY}"
                        want = client.get(f"{materialised}{path}{query}")
                        got = client.get(f"{on_demand}{path}{query}")
                        assert got.status_code == want.status_code == 200
                        assert got.headers["x-total-count"] == want.headers["x-total-count"] == str(total)
                        assert got.content == want.content, (name, spec.name, offset, fmt)


def test_derived_table_hint_is_a_run_config_for_the_same_dataset(world: dict[str, Any], on_demand: str) -> None:
    refused = httpx.get(f"{on_demand}/api/v1/analytics/products?{QUERY}")
    assert refused.status_code == 409
    command = refused.text.split("make it with: ", 1)[1].strip()
    assert command.startswith(
        "dagster asset materialize -m mock_pipeline.definitions --select '*commerce/product_analytics'"
    )
    config = json.loads(command.split("--config-json ", 1)[1].strip("'"))
    resource = ScenarioResource(**config["resources"]["scenario"]["config"])
    assert resource.resolve().dataset_id == world["dataset_id"]


@pytest.mark.slow
def test_derived_table_hint_makes_the_table(world: dict[str, Any], materialised: str, tmp_path: Path) -> None:
    """Run the 409's command as written; the API then serves the table, equal to the materialised one."""
    data = tmp_path / "data"
    data.mkdir()
    with api_server(data) as (base, _):
        refused = httpx.get(f"{base}/api/v1/analytics/users?format=csv&{QUERY}", timeout=60)
        assert refused.status_code == 409
        command = shlex.split(refused.text.split("make it with: ", 1)[1])
        command[0] = str(Path(sys.executable).parent / "dagster")
        env = {**os.environ, "MOCK_PIPELINE_DATA_DIR": str(data)}
        made = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True)
        assert made.returncode == 0, made.stderr[-3000:]
        served = httpx.get(f"{base}/api/v1/analytics/users?format=csv&{QUERY}", timeout=60)
    assert served.status_code == 200
    assert served.content == httpx.get(f"{materialised}/api/v1/analytics/users?format=csv&{QUERY}", timeout=60).content


def test_dataset_id_names_the_same_rows(world: dict[str, Any], materialised: str) -> None:
    with httpx.Client(timeout=60) as client:
        by_scenario = client.get(f"{materialised}/api/v1/erp/orders?format=csv&limit=50&offset=100&{QUERY}")
        by_id = client.get(
            f"{materialised}/api/v1/erp/orders?format=csv&limit=50&offset=100&dataset_id={world['dataset_id']}"
        )
        assert by_id.status_code == 200 and by_id.content == by_scenario.content
        listing = client.get(f"{materialised}/api/v1/erp?dataset_id={world['dataset_id']}").json()
        manifest = json.loads((world["exports"][("erp", "csv")] / "manifest.json").read_text())
        assert {t["table"]: t["rows"] for t in listing["tables"]} == manifest["tables"]
        assert all(t["materialised"] for t in listing["tables"])


def test_domain_listing_on_demand_counts_the_export_rows(world: dict[str, Any], on_demand: str) -> None:
    listing = httpx.get(f"{on_demand}/api/v1/commerce?{QUERY}", timeout=120).json()
    manifest = json.loads((world["exports"][("commerce", "csv")] / "manifest.json").read_text())
    for table in listing["tables"]:
        assert not table["materialised"]
        assert table["rows"] == (None if table["derived"] else manifest["tables"][table["table"]])


def test_seed_004_paths_are_commerce_tables(world: dict[str, Any], materialised: str) -> None:
    with httpx.Client(timeout=60) as client:
        for alias, table in COMMERCE_ALIASES.items():
            fmt = "csv"
            alias_page = client.get(f"{materialised}/api/v1/{alias}?format={fmt}&limit=300&{QUERY}")
            table_page = client.get(f"{materialised}/api/v1/commerce/{table}?format={fmt}&limit=300&{QUERY}")
            assert alias_page.status_code == 200, alias
            assert alias_page.content == table_page.content, alias


@pytest.mark.parametrize("fmt", ["json", "ndjson", "xml"])
def test_orders_nest_their_items(world: dict[str, Any], materialised: str, on_demand: str, fmt: str) -> None:
    """Seed 004's /orders: each order carries its items, which are exactly the export's order_items rows."""
    items_json, _ = export_records(world["exports"][("commerce", "ndjson")], "order_items", "ndjson")
    by_order: dict[int, list[dict[str, Any]]] = {}
    for line in items_json.splitlines():
        item = json.loads(line)
        by_order.setdefault(item["order_id"], []).append(item)
    orders_flat = httpx.get(
        f"{materialised}/api/v1/commerce/orders?format=ndjson&limit=400&offset=1000&{QUERY}"
    ).content
    for base in (materialised, on_demand):
        page = httpx.get(f"{base}/api/v1/orders?format={fmt}&limit=400&offset=1000&{QUERY}", timeout=60)
        assert page.status_code == 200
        if fmt == "xml":
            import xml.etree.ElementTree as ET

            root = ET.fromstring(page.content)
            nested = {int(o.findtext("order_id")): len(o.find("items")) for o in root}
            assert nested == {k: len(by_order.get(k, [])) for k in nested}
            assert len(nested) == 400
            continue
        orders = json.loads(page.content) if fmt == "json" else [json.loads(x) for x in page.content.splitlines()]
        assert len(orders) == 400
        for order, flat in zip(orders, orders_flat.splitlines(), strict=True):
            items = order.pop("items")
            assert order == json.loads(flat)
            assert items == by_order.get(order["order_id"], [])
        assert sum(len(o) for o in by_order.values() if o) > 0


def test_ten_concurrent_clients_get_the_same_pages(world: dict[str, Any], materialised: str, on_demand: str) -> None:
    jobs = [
        (f"/api/v1/{name}/{table}", offset)
        for name, domain in domains().items()
        for table in two_tables(domain)
        for offset in (0, 1234)
    ]

    def fetch(base: str, job: tuple[str, int]) -> bytes:
        path, offset = job
        with httpx.Client(timeout=120) as client:
            response = client.get(f"{base}{path}?format=json&limit=900&offset={offset}&{QUERY}")
            assert response.status_code == 200
            return response.content

    expected = [fetch(materialised, job) for job in jobs]
    with ThreadPoolExecutor(max_workers=10) as pool:
        got = list(pool.map(lambda job: fetch(on_demand, job), jobs * 2))
    assert got == expected * 2


BAD = [
    ("/api/v1/orders?limit=0", 400, "limit: "),
    ("/api/v1/orders?limit=10001", 400, "limit: "),
    ("/api/v1/orders?limit=many", 400, "limit: "),
    ("/api/v1/orders?offset=-1", 400, "offset: "),
    ("/api/v1/orders?format=yaml", 400, "format: "),
    ("/api/v1/orders?seed=-1", 400, "seed: "),
    ("/api/v1/orders?seed=abc", 400, "seed: "),
    ("/api/v1/orders?as_of=2024-02-30", 400, "as_of: "),
    ("/api/v1/orders?profile=calm", 400, "profile: "),
    (
        "/api/v1/orders?profile=peak_season",
        400,
        "profile: 'peak_season' is not allowed; allowed: normal-ops, peak-season",
    ),
    ("/api/v1/orders?size=Small", 400, "size: 'Small' is not allowed; allowed: small, medium, large"),
    ("/api/v1/orders?size=huge", 400, "size: "),
    ("/api/v1/orders?dataset_id=nope", 404, "dataset_id: "),
    ("/api/v1/orders?dataset_id=x&seed=3", 400, "dataset_id: "),
    ("/api/v1/commerce/ordres", 404, "table: "),
    ("/api/v1/shop", 404, "domain: "),
    ("/api/v1/shop/orders", 404, "domain: "),
]


@pytest.mark.parametrize(("path", "status", "starts"), BAD)
def test_bad_parameters_get_one_line(on_demand: str, path: str, status: int, starts: str) -> None:
    response = httpx.get(f"{on_demand}{path}", timeout=30)
    assert response.status_code == status
    assert response.text.startswith(starts) and response.text.count("\n") == 1
    assert "allowed" in response.text or "give one or the other" in response.text


SEED_004_COMMANDS = [
    # Seed 004's documented curl commands, verbatim but for the host.
    "/api/v1/users?format=json&limit=1000&seed=42",
    "/api/v1/orders?format=csv&limit=10000",
    "/api/v1/analytics/products?format=csv&limit=10000",
    "/api/v1/users?seed=42",
    "/api/v1/orders?seed=42",
    "/api/v1/products?limit=100",
]


@pytest.mark.parametrize("path", SEED_004_COMMANDS)
def test_seed_004_documented_commands(world: dict[str, Any], materialised: str, path: str) -> None:
    response = httpx.get(f"{materialised}{path}", timeout=60)
    assert response.status_code == 200, response.text
    fmt = "csv" if "format=csv" in path else "json"
    assert response.headers["content-type"].startswith("text/csv" if fmt == "csv" else "application/json")
    limit = int(path.split("limit=")[1].split("&")[0]) if "limit=" in path else 1000
    total = int(response.headers["x-total-count"])
    rows = response.content.count(b"\n") - 1 if fmt == "csv" else len(json.loads(response.content))
    if b'\n"' not in response.content:  # no quoted newlines: lines are rows
        assert rows == min(limit, total)
    assert ("link" in response.headers) == (total > limit)


def test_unknown_table_lists_the_tables(on_demand: str) -> None:
    text = httpx.get(f"{on_demand}/api/v1/scrum/tickets").text
    assert all(spec.name in text for spec in domains()["scrum"].tables)


def test_scenarios_lists_profiles_and_presets(on_demand: str) -> None:
    body = httpx.get(f"{on_demand}/api/v1/scenarios").json()
    assert {"normal-ops", "peak-season", "payment-crisis"} <= set(body["profiles"])
    assert set(body["presets"]) == {"small", "medium", "large"}
    assert httpx.get(f"{on_demand}/docs").status_code == 200


def test_off_loopback_needs_a_key() -> None:
    refused = subprocess.run(
        [*CLI, "serve", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        env={**os.environ, "MOCK_PIPELINE_API_KEY": ""},
    )
    assert refused.returncode == 2
    assert refused.stderr.strip().count("\n") == 0
    assert "--host 0.0.0.0" in refused.stderr and "MOCK_PIPELINE_API_KEY" in refused.stderr
    for host in ("127.0.0.1", "::1", "localhost"):
        assert api_key_for(host, {}) is None
    assert api_key_for("10.1.2.3", {"MOCK_PIPELINE_API_KEY": "k"}) == "k"
    with pytest.raises(ServeError):
        api_key_for("10.1.2.3", {})


def test_key_is_checked_on_every_request_and_never_logged(world: dict[str, Any]) -> None:
    key = "s3cr3t-key-for-this-test"
    with api_server(world["empty"], env={"MOCK_PIPELINE_API_KEY": key}) as (base, log):
        for path in ("/api/v1/scenarios", f"/api/v1/commerce/orders?limit=5&{QUERY}", "/docs"):
            assert httpx.get(f"{base}{path}").status_code == 401
            assert httpx.get(f"{base}{path}", headers={"X-API-Key": key + "x"}).status_code == 401
            assert httpx.get(f"{base}{path}", headers={"X-API-Key": key}).status_code == 200
    assert key not in log.read_text()
