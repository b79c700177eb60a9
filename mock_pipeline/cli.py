"""The `mock-pipeline` command: seeds 000, 001, 003 and 004's own interfaces as thin fronts over the assets.

Every subcommand goes through what a Dagster user would use: the same run config, the same
assets on the same instance, the same validation; nothing here generates data by itself.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mock_pipeline.api.server import DEFAULT_HOST, DEFAULT_PORT


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Realistic, reproducible mock data: generate it, validate a scenario, serve it over HTTP."""


@main.command()
@click.option(
    "--host", default=DEFAULT_HOST, show_default=True, help="Address to bind; off loopback needs MOCK_PIPELINE_API_KEY."
)
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Data folder (default $MOCK_PIPELINE_DATA_DIR or ./data).",
)
def serve(host: str, port: int, data_dir: Path | None) -> None:
    """Seed 004's read-only data API (OpenAPI page at /docs)."""
    from mock_pipeline.api.server import ServeError
    from mock_pipeline.api.server import serve as run

    try:
        run(host, port, data_dir)
    except ServeError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
