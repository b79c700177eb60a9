"""Every environment variable the project reads, checked at once: one Problem per bad value.

The definitions load with any environment (a bad value never becomes a traceback there); the run's
first step reports these problems with the scenario's, before the first table is written, and the
scenario sensor refuses a file the same way. Values are read here only to be checked: secrets are
never echoed, only the variable's name.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from mock_pipeline import partitions
from mock_pipeline.publish import http, s3
from mock_pipeline.publish.vectors.embedders import EMBEDDERS
from mock_pipeline.publish.vectors.resources import EMBEDDER_ENV, PGVECTOR_URL_ENV, VECTOR_STORE_ENV, VECTOR_STORES
from mock_pipeline.publish.vectors.stores.pinecone import PINECONE_API_KEY_ENV, PINECONE_INDEX_NAME_ENV
from mock_pipeline.resources import DATA_DIR_ENV
from mock_pipeline.scenarios.model import Problem, Scenario
from mock_pipeline.storage import STORE_URI_ENV, parse_store_uri

# S3's canned ACLs (PutObject's x-amz-acl).
S3_ACLS = (
    "private", "public-read", "public-read-write", "authenticated-read", "aws-exec-read",
    "bucket-owner-read", "bucket-owner-full-control",
)  # fmt: skip
_REGION = re.compile(r"^[a-z]{2}(-[a-z0-9]+)+$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
DATABASE_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg")


def _url_problem(name: str, value: str, schemes: tuple[str, ...], example: str) -> Problem | None:
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 - a bad port raises here
    except ValueError:
        return Problem(name, f"has a bad port; allowed: a URL such as {example}")
    if parts.scheme not in schemes or not parts.hostname:
        return Problem(name, f"is not a {'/'.join(schemes)} URL; allowed: a URL such as {example}")
    return None


def _line_problem(line: str | None, name: str) -> Problem | None:
    """A "NAME: what; allowed: ..." line as a Problem of NAME."""
    if line is None:
        return None
    return Problem(name, line.removeprefix(f"{name}: ").removeprefix(f"{name}="))


def folder_problem(name: str, folder: Path) -> Problem | None:
    """A folder the project writes into: an existing writable folder, or creatable under one."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        if existing.is_symlink():  # a dangling link: mkdir would fail on it
            return Problem(name, f"{existing} is a broken symbolic link; allowed: a folder")
        existing = existing.parent
    if not existing.is_dir():
        what = "is a file" if existing == folder else f"is under {existing}, which is a file"
        return Problem(name, f"{folder} {what}; allowed: a folder (it is created if missing)")
    if not os.access(existing, os.W_OK | os.X_OK):
        return Problem(name, f"{existing} is not writable; allowed: a folder this user can write")
    return None


def environment_problems(scenario: Scenario | None = None, environ: Mapping[str, str] | None = None) -> list[Problem]:
    """Every set environment variable that a run would fail on, each as one Problem."""
    env = os.environ if environ is None else environ
    problems: list[Problem] = []

    def add(problem: Problem | None) -> None:
        if problem is not None:
            problems.append(problem)

    def is_set(name: str) -> bool:
        return bool(env.get(name, "").strip())

    if is_set(DATA_DIR_ENV):
        add(folder_problem(DATA_DIR_ENV, Path(env[DATA_DIR_ENV]).absolute()))

    store = env.get(VECTOR_STORE_ENV, "") or "lancedb"
    if store not in VECTOR_STORES:
        add(Problem(VECTOR_STORE_ENV, f"{store!r} is unknown; allowed: {', '.join(VECTOR_STORES)}"))
    if store == "pgvector":
        if not is_set(PGVECTOR_URL_ENV):
            add(Problem(PGVECTOR_URL_ENV, "is not set; required with MOCK_PIPELINE_VECTOR_STORE=pgvector"))
        else:
            add(_url_problem(PGVECTOR_URL_ENV, env[PGVECTOR_URL_ENV], DATABASE_SCHEMES,
                             "postgresql://user:password@host:5432/db"))  # fmt: skip
    if store == "pinecone":
        for name in (PINECONE_API_KEY_ENV, PINECONE_INDEX_NAME_ENV):
            if not is_set(name):
                add(Problem(name, "is not set; required with MOCK_PIPELINE_VECTOR_STORE=pinecone"))
    embedder = env.get(EMBEDDER_ENV, "") or "hashing"
    if embedder not in EMBEDDERS:
        add(Problem(EMBEDDER_ENV, f"{embedder!r} is unknown; allowed: {', '.join(EMBEDDERS)}"))

    if is_set(s3.BUCKET_ENV) and not _BUCKET.match(env[s3.BUCKET_ENV]):
        add(Problem(s3.BUCKET_ENV, f"{env[s3.BUCKET_ENV]!r} is not a bucket name; allowed: 3-63 lowercase "
                    "letters, digits, dots and hyphens"))  # fmt: skip
    if is_set(s3.ENDPOINT_ENV):
        add(_url_problem(s3.ENDPOINT_ENV, env[s3.ENDPOINT_ENV], ("http", "https"), "http://127.0.0.1:9000"))
    if is_set(s3.REGION_ENV) and not _REGION.match(env[s3.REGION_ENV]):
        add(Problem(s3.REGION_ENV, f"{env[s3.REGION_ENV]!r} is not a region; allowed: a region such as us-east-1"))
    if is_set(s3.ACL_ENV) and env[s3.ACL_ENV] not in S3_ACLS:
        add(Problem(s3.ACL_ENV, f"{env[s3.ACL_ENV]!r} is not a canned ACL; allowed: {', '.join(S3_ACLS)}"))
    if is_set(s3.PREFIX_ENV) and scenario is not None:
        try:
            s3.upload_prefix(env[s3.PREFIX_ENV], scenario, "domain")
        except s3.PublishError as exc:
            add(Problem(s3.PREFIX_ENV, str(exc).removeprefix("s3 prefix: ")))
    if is_set(STORE_URI_ENV):
        try:
            parse_store_uri(env[STORE_URI_ENV])
        except ValueError as exc:
            add(Problem(STORE_URI_ENV, str(exc).removeprefix(f"{STORE_URI_ENV}: ")))

    if is_set(http.API_URL_ENV):
        try:
            http.check_api_url(env[http.API_URL_ENV])
        except http.UploadConfigError as exc:
            add(Problem(http.API_URL_ENV, str(exc).removeprefix("http upload api_url: ")))
    # The partitioned code location's: it loads with the defaults, its runs are refused here.
    if is_set(partitions.SHARDS_ENV):
        add(_line_problem(partitions.shards_problem(env[partitions.SHARDS_ENV].strip()), partitions.SHARDS_ENV))
    if is_set(partitions.EXECUTOR_ENV):
        add(_line_problem(partitions.executor_problem(env[partitions.EXECUTOR_ENV].strip()), partitions.EXECUTOR_ENV))
    database_url = "MOCK_PIPELINE_DATABASE_URL"
    if is_set(database_url):
        add(_url_problem(database_url, env[database_url], DATABASE_SCHEMES, "postgresql://user:password@host:5432/db"))
    return problems
