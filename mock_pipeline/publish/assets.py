"""Publishing assets, one set per domain, built by one factory over the domains."""

import dagster as dg

from mock_pipeline.domains.factory import OWNERS, Domain
from mock_pipeline.publish.files import MANIFEST, ExportError, ExportOptions, export_domain, export_kind, replaced_kind
from mock_pipeline.resources import DataDirResource, ScenarioResource


class FilesExportConfig(dg.Config):
    """How a domain is exported (seed 003's --format, --compress and --chunk-size)."""

    format: str = "csv"
    compress: bool = False
    max_records_per_file: int = 10_000


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
        dataset = data_dir.dataset(resolved, domain.name)
        target = data_dir.export(resolved, domain.name, pull=False)  # rewritten whole: nothing to fetch
        kind = export_kind(options.format, "gzip" if options.compress else None)
        replaced = replaced_kind(target, options)
        # The lock keeps a local reader's pull off the folder until the store has the new export too.
        with data_dir.writing(target, [MANIFEST]):
            try:
                result = export_domain(dataset, target, domain.tables, options, resolved.significant_config, statistics)
            except ExportError as exc:
                raise dg.Failure(description=str(exc), allow_retries=False) from None
            # With an object store: files first (unchanged ones skipped), manifest.json last.
            data_dir.publish_export(target, context.log.info)
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
                "manifest": dg.MetadataValue.path(str(result.manifest)),
                "files": len(result.files),
                "bytes": result.bytes,
                "format": options.format,
                "compression": "gzip" if options.compress else "none",
                "replaced_export": replaced or "none",
            }
        )

    return _exported_files
