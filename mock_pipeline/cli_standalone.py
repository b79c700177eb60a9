"""The commands that need no run config (serve, import-schema), and the CLI's one-line error.

Kept apart from cli.py, whose commands are all fronts to a Dagster run config; cli.main registers
these. Their heavy imports happen only when the command runs.
"""

from __future__ import annotations

from pathlib import Path

import click

from mock_pipeline.api.server import DEFAULT_HOST, DEFAULT_PORT


class CliError(click.ClickException):
    """One line, exit code 2, nothing written."""

    exit_code = 2


# --- serve (seed 004) ---------------------------------------------------------------------------
@click.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Off loopback needs MOCK_PIPELINE_API_KEY.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Default $MOCK_PIPELINE_DATA_DIR or ./data."
)
def serve(host: str, port: int, data_dir: Path | None) -> None:
    """The e-commerce API's read-only data API (OpenAPI page at /docs)."""
    from mock_pipeline.api.server import ServeError
    from mock_pipeline.api.server import serve as run

    try:
        run(host, port, data_dir)
    except ServeError as exc:
        raise CliError(str(exc)) from None


# --- import-schema (issue 16): a live PostgreSQL schema -> a MockDataset defs.yaml on stdout ----------
@click.command("import-schema")
@click.argument("url")
@click.option("--schema", default="public", show_default=True, help="The PostgreSQL schema to read.")
@click.option("--tables", help="Comma-separated tables to import (default: all of the schema's).")
@click.option("--name", help="The dataset's name (default: the database's).")
@click.option(
    "--rows", type=click.IntRange(min=1), default=1000, show_default=True, help="Rows of a table never analysed."
)
def import_schema(url: str, schema: str, tables: str | None, name: str | None, rows: int) -> None:
    """Write a MockDataset spec for a PostgreSQL schema: `... > mock_pipeline/defs/myapp/defs.yaml`."""
    from mock_pipeline.mock_dataset.introspect import ImportRefused
    from mock_pipeline.mock_dataset.introspect import import_schema as run

    try:
        text = run(url, schema, [t.strip() for t in tables.split(",") if t.strip()] if tables else (), name, rows)
    except ImportRefused as exc:
        for line in exc.lines[:-1]:
            click.echo(f"Error: {line}", err=True)
        raise CliError(exc.lines[-1]) from None
    except Exception as exc:  # psycopg2.OperationalError and the like: one line, never the URL's password
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CliError(f"URL: cannot read the catalogue: {first}") from None
    click.echo(text, nl=False)
