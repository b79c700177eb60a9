"""Publishing assets, one set per domain, built by one factory over the domains."""

from collections.abc import Sequence
from typing import Any, Literal

import dagster as dg

from mock_pipeline.domains.factory import OWNERS, Domain
from mock_pipeline.publish.files import MANIFEST, ExportError, ExportOptions, export_domain, export_kind, replaced_kind
from mock_pipeline.resources import DataDirResource, ScenarioResource


class FilesExportConfig(dg.Config):
    """How a domain is exported (seed 003's --format, --compress and --chunk-size)."""

    # A Literal is a Dagster Enum: the launchpad and the CLI refuse `format: xlsx` before the run starts.
    format: Literal["csv", "ndjson", "json", "xml", "parquet"] = "csv"
    compress: bool = False  # gzip or not: a bool is already a closed choice Dagster checks at launch
    max_records_per_file: int = 10_000  # 1..100,000,000, checked with the scenario at the run's start


def exported_files_asset(domain: Domain) -> dg.AssetsDefinition:
    @dg.asset(
        name="exported_files",
        key_prefix=[domain.name],
        group_name=domain.name,
        deps=[domain.key(t.name) for t in domain.tables],
        kinds={"file"},
        owners=OWNERS,
        description=f"Every {domain.name} table as files of at most N records, with metadata.csv and manifest.json.",
    )
    def _exported_files(
        context: dg.AssetExecutionContext,
        config: FilesExportConfig,
        scenario: ScenarioResource,
        data_dir: DataDirResource,
    ) -> dg.MaterializeResult:
        resolved = scenario.resolve()
        options = ExportOptions(config.format, config.compress, config.max_records_per_file)
        statistics = [
            ("dataset_id", resolved.dataset_id),
            ("domain", domain.name),
            *((k, v) for k, v in resolved.significant_config.items() if k not in ("custom_profiles", "overrides")),
        ]
        kind = export_kind(options.format, "gzip" if options.compress else None)
        # Rewritten whole (nothing pulled); with an object store it goes up on success, manifest.json last.
        with (
            data_dir.reading(resolved, domain.name) as dataset,
            data_dir.export_writer(resolved, domain.name, context.log.info) as target,
        ):
            replaced = replaced_kind(target, options)
            try:
                result = export_domain(dataset, target, domain.tables, options, resolved.significant_config, statistics)
            except ExportError as exc:
                raise dg.Failure(description=str(exc), allow_retries=False) from None
        context.log.info(f"exported {result.rows:,} rows in {len(result.files)} files to {result.root}")
        if replaced:
            # One export per dataset and domain (what S3 and HTTP publish): say so where it is seen.
            context.log.warning(
                f"the {kind} export replaced the {replaced} export in {result.root}: one export per dataset and "
                f"domain; copy it elsewhere first to keep both"
            )
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": result.rows,
                "dagster/uri": str(result.root),
                "dataset_id": resolved.dataset_id,
                "manifest": dg.MetadataValue.path(str(result.manifest)),
                "files": len(result.files),
                "bytes": result.bytes,
                "format": options.format,
                "compression": "gzip" if options.compress else "none",
                "replaced_export": replaced or "none",
            }
        )

    return _exported_files


def destination_line(name: str, event: dg.EventLogEntry | None, dataset_id: str, this_run: str) -> str:
    """`s3_upload: <uri> (N rows)`: where one destination put this dataset, as its materialisation says."""
    materialization = event.asset_materialization if event is not None else None
    if event is None or materialization is None:
        return f"{name}: not published yet"
    metadata = materialization.metadata
    if "dataset_id" in metadata and metadata["dataset_id"].value != dataset_id:
        return f"{name}: not published for this dataset (last: {metadata['dataset_id'].value})"
    uri = metadata["dagster/uri"].value if "dagster/uri" in metadata else "(no location reported)"
    rows = metadata["dagster/row_count"].value if "dagster/row_count" in metadata else None
    line = f"{name}: {uri}" + (f" ({rows:,} rows)" if isinstance(rows, int) else "")
    return line if event.run_id == this_run else f"{line}, in run {event.run_id[:8]}"


def publish_summary_asset(domain: Domain, destinations: Sequence[dg.AssetsDefinition]) -> dg.AssetsDefinition:
    """[domain, publish_summary]: runs after every destination, so a run's last lines say where the data went."""
    keys = [key for asset in destinations for key in asset.keys]

    @dg.asset(
        name="publish_summary",
        key_prefix=[domain.name],
        group_name=domain.name,
        deps=keys,
        kinds={"python"},
        owners=OWNERS,
        description=f"Where {domain.name}'s dataset went: the export folder, its manifest and each destination.",
    )
    def _publish_summary(
        context: dg.AssetExecutionContext, scenario: ScenarioResource, data_dir: DataDirResource
    ) -> dg.MaterializeResult:
        resolved = scenario.resolve()
        export = data_dir.export(resolved, domain.name, pull=False)
        lines = [
            f"{domain.name} dataset {resolved.dataset_id} went to:",
            f"export folder: {export}",
            f"manifest: {export / MANIFEST}",
        ]
        metadata: dict[str, Any] = {
            "dataset_id": resolved.dataset_id,
            "export_folder": dg.MetadataValue.path(str(export)),
            "manifest": dg.MetadataValue.path(str(export / MANIFEST)),
        }
        for key in keys:
            event = context.instance.get_latest_materialization_event(key)
            line = destination_line(key.path[-1], event, resolved.dataset_id, context.run.run_id)
            lines.append(line)
            metadata[key.path[-1]] = line.split(": ", 1)[1]
        for line in lines:
            context.log.info(line)
        return dg.MaterializeResult(metadata=metadata)

    return _publish_summary
