"""Seed 004's data API: read-only FastAPI over the same tables and the same rendering as the files export."""

from __future__ import annotations

import hmac
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from mock_pipeline.api.catalog import COMMERCE_ALIASES, NESTED, ApiError, Catalog, Dataset
from mock_pipeline.api.render import MEDIA_TYPES, render, render_nested
from mock_pipeline.resources import DATA_DIR_ENV, BuiltinProfile, SizePreset
from mock_pipeline.scenarios.model import builtin_profiles, size_presets

API_KEY_ENV = "MOCK_PIPELINE_API_KEY"
API_KEY_HEADER = "X-API-Key"
MAX_LIMIT = 10_000  # seed 004's limits
DEFAULT_LIMIT = 1_000
PREFIX = "/api/v1"

# One line per parameter: what is allowed (FastAPI's own validation errors are a nested JSON list).
ALLOWED = {
    "format": "json, csv, xml, ndjson",
    "limit": f"an integer from 1 to {MAX_LIMIT}",
    "offset": "an integer of 0 or more",
    "seed": "an integer of 0 or more",
    "profile": ", ".join(get_args(BuiltinProfile)) + " (a custom profile's dataset: by its dataset_id)",
    "size": ", ".join(get_args(SizePreset)),
}

Format = Annotated[Literal["json", "csv", "xml", "ndjson"], Query(description="Rendering, as the files export.")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Rows per page (1 to 10000).")]
Offset = Annotated[int, Query(ge=0, description="Rows to skip.")]
Seed = Annotated[int | None, Query(ge=0, description="Scenario seed (default 42).")]
# Closed choices as types: the OpenAPI page lists them, and a bad one is refused in one line before any work.
Profile = Annotated[BuiltinProfile | None, Query(description="Built-in scenario profile (default normal-ops).")]
Size = Annotated[SizePreset | None, Query(description="Size preset: small, medium, large (default small).")]
AsOf = Annotated[str | None, Query(description="Last day of the window, ISO date (default 2024-12-31).")]
DatasetId = Annotated[str | None, Query(description="A materialised dataset, instead of the scenario values.")]


def scenario_dataset(
    request: Request,
    seed: Seed = None,
    profile: Profile = None,
    size: Size = None,
    as_of: AsOf = None,
    dataset_id: DatasetId = None,
) -> Dataset:
    """The dataset a request names: a materialised `dataset_id`, or the scenario values (defaults for the rest)."""
    params = {"seed": seed, "profile": profile, "size": size, "as_of": as_of}
    return request.app.state.catalog.dataset({k: v for k, v in params.items() if v is not None}, dataset_id)


# The scenario parameters, declared once for every endpoint that serves rows.
ScenarioDataset = Annotated[Dataset, Depends(scenario_dataset)]


def _one_line(status: int, message: str) -> PlainTextResponse:
    return PlainTextResponse(message.splitlines()[0] + "\n", status_code=status)


def create_app(data_root: Path | None = None, api_key: str | None = None) -> FastAPI:
    """The API over `data_root` (default $MOCK_PIPELINE_DATA_DIR or ./data).

    With `api_key` every request must carry it in the X-API-Key header (compared in constant time).
    """
    root = (data_root or Path(os.environ.get(DATA_DIR_ENV) or "data")).absolute()
    catalog = Catalog(root)
    app = FastAPI(
        title="mock_pipeline data API",
        description="The e-commerce API's read-only data API over the mock_pipeline datasets: the rows the files export "
        "writes, paged, from Parquet when materialised and generated on demand otherwise.",
        version="1",
    )
    app.state.catalog = catalog
    expected = api_key.encode() if api_key else None

    @app.middleware("http")
    async def require_key(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if expected is not None:
            given = request.headers.get(API_KEY_HEADER, "").encode()
            if not hmac.compare_digest(given, expected):
                return _one_line(401, f"{API_KEY_HEADER}: missing or wrong; allowed: the key of this server")
        return await call_next(request)

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> PlainTextResponse:
        return _one_line(exc.status, str(exc))

    @app.exception_handler(RequestValidationError)
    async def bad_parameter(_: Request, exc: RequestValidationError) -> PlainTextResponse:
        error = exc.errors()[0]
        name = str(error["loc"][-1])
        given = error.get("input")
        allowed = ALLOWED.get(name, error.get("msg", "a valid value"))
        return _one_line(400, f"{name}: {given!r} is not allowed; allowed: {allowed}")

    @app.get(f"{PREFIX}/scenarios", summary="Profiles and size presets with their parameters")
    def scenarios() -> dict[str, Any]:
        return {
            "profiles": builtin_profiles(),
            "presets": size_presets(),
            "defaults": {"profile": "normal-ops", "size": "small", "seed": 42, "as_of": "2024-12-31"},
            "datasets": catalog.materialised_ids(),
        }

    def rows(
        request: Request,
        domain: str,
        table: str,
        format: str,
        limit: int,
        offset: int,
        dataset: Dataset,
        nest: bool = False,
    ) -> Response:
        d = catalog.domain(domain)
        spec = catalog.spec(d, table)
        source = catalog.source(dataset, d, spec)
        total = source.total()
        page = source.page(offset, limit)
        child = NESTED.get((domain, table)) if nest and format != "csv" else None
        if child is not None and page.num_rows:
            child_spec = catalog.spec(d, child)
            ids = page.column(spec.key)
            low, high = ids[0].as_py(), ids[-1].as_py()
            children = catalog.source(dataset, d, child_spec).between(spec.key, low, high)
            body = render_nested(page, children, format, table, spec.key, child_spec.key)
        else:
            body = render(page, format, table, spec.key)
        headers = {"X-Total-Count": str(total), "X-Dataset-Id": dataset.dataset_id}
        if offset + limit < total:
            headers["Link"] = f'<{request.url.include_query_params(offset=offset + limit)}>; rel="next"'
        return Response(body, media_type=MEDIA_TYPES[format], headers=headers)

    def alias_route(path: str, table: str) -> None:
        nest = ("commerce", table) in NESTED

        def handler(
            request: Request,
            dataset: ScenarioDataset,
            format: Format = "json",
            limit: Limit = DEFAULT_LIMIT,
            offset: Offset = 0,
        ) -> Response:
            return rows(request, "commerce", table, format, limit, offset, dataset, nest)

        summary = f"The e-commerce API's /{path}: commerce {table}" + (" with items nested" if nest else "")
        app.add_api_route(f"{PREFIX}/{path}", handler, methods=["GET"], summary=summary, tags=["e-commerce API"])

    for path, table in COMMERCE_ALIASES.items():
        alias_route(path, table)

    @app.get(f"{PREFIX}/{{domain}}", summary="A domain's tables with their row counts for the scenario")
    def domain_tables(domain: str, dataset: ScenarioDataset) -> JSONResponse:
        d = catalog.domain(domain)
        tables = []
        for spec in d.tables:
            materialised = catalog.is_materialised(dataset, d, spec)
            rows_known = materialised or (spec.build is not None and dataset.scenario is not None)
            tables.append(
                {
                    "table": spec.name,
                    "key": spec.key,
                    "rows": catalog.source(dataset, d, spec).total() if rows_known else None,
                    "materialised": materialised,
                    "derived": spec.derive is not None,
                    "path": f"{PREFIX}/{domain}/{spec.name}",
                    "description": spec.description,
                }
            )
        return JSONResponse({"domain": domain, "dataset_id": dataset.dataset_id, "tables": tables})

    @app.get(f"{PREFIX}/{{domain}}/{{table}}", summary="A table's rows, paged, as the files export renders them")
    def table_rows(
        request: Request,
        domain: str,
        table: str,
        dataset: ScenarioDataset,
        format: Format = "json",
        limit: Limit = DEFAULT_LIMIT,
        offset: Offset = 0,
    ) -> Response:
        return rows(request, domain, table, format, limit, offset, dataset)

    return app


def app_from_env() -> FastAPI:
    """For `uvicorn mock_pipeline.api.app:app_from_env --factory`: data folder and key from the environment."""
    return create_app(api_key=os.environ.get(API_KEY_ENV) or None)
