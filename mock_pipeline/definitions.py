"""The one Definitions object, composed from the domains and the publishing factories."""

import dagster as dg

from mock_pipeline.charts import daily_activity_asset
from mock_pipeline.domains.commerce import COMMERCE
from mock_pipeline.domains.erp import ERP
from mock_pipeline.domains.factory import Domain, domain_definitions
from mock_pipeline.domains.maintenance import MAINTENANCE
from mock_pipeline.domains.scrum import SCRUM
from mock_pipeline.jobs import build_jobs
from mock_pipeline.preflight import checked_in_process_executor
from mock_pipeline.publish.assets import exported_files_asset, publish_summary_asset
from mock_pipeline.publish.database.asset import database_tables_asset, mock_data_cleanup_job
from mock_pipeline.publish.database.resources import database_resource
from mock_pipeline.publish.http import http_upload_asset, http_upload_from_env
from mock_pipeline.publish.s3 import s3_upload_asset, s3_upload_from_env
from mock_pipeline.publish.vectors.asset import vector_index_asset
from mock_pipeline.publish.vectors.resources import embedder_from_env, vector_store_from_env
from mock_pipeline.report import scenario_report_asset
from mock_pipeline.resources import ScenarioResource
from mock_pipeline.schedules import build_schedules
from mock_pipeline.sensors import build_sensors
from mock_pipeline.storage import data_dir_from_env

DOMAINS: tuple[Domain, ...] = (COMMERCE, ERP, MAINTENANCE, SCRUM)


def build_definitions() -> dg.Definitions:
    assets: list[dg.AssetsDefinition] = []
    checks: list[dg.AssetChecksDefinition] = []
    vector_store = vector_store_from_env()  # which store is not a secret; its credentials stay dg.EnvVar
    for domain in DOMAINS:
        domain_assets, domain_checks = domain_definitions(domain)
        published = [exported_files_asset(domain)]
        if (chart := daily_activity_asset(domain)) is not None:
            published.append(chart)
        published.append(scenario_report_asset(domain))
        published.append(database_tables_asset(domain))
        published += [s3_upload_asset(domain), http_upload_asset(domain)]
        if (vector_index := vector_index_asset(domain, vector_store.kind)) is not None:
            published.append(vector_index)
        # Last in the domain: the run's closing lines say where each destination put the data.
        assets += [*domain_assets, *published, publish_summary_asset(domain, published)]
        checks += domain_checks
    return dg.Definitions(
        assets=assets,
        asset_checks=checks,
        resources={
            "scenario": ScenarioResource(),
            "data_dir": data_dir_from_env(),  # + the object store from MOCK_PIPELINE_STORE_URI, if set
            "database": database_resource(),
            "s3_upload": s3_upload_from_env(),
            "http_upload": http_upload_from_env(),
            "embedder": embedder_from_env(),
            "vector_store": vector_store,
        },
        jobs=[mock_data_cleanup_job(DOMAINS), *build_jobs(DOMAINS)],
        schedules=build_schedules(DOMAINS),
        sensors=build_sensors(DOMAINS),
        # One process: steps are short and columnar; multiprocess costs seconds per step.
        executor=checked_in_process_executor,  # in-process, the run config checked once before any step
    )


defs = build_definitions()
