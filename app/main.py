"""ABI's Moose application: every declaration is imported here (and only imported)."""

from app.apis.endpoints import APIS  # noqa: F401
from app.apis.operations import OPERATION_APIS  # noqa: F401 - data-quality, anomalies, workflow-runs
from app.ingest import pipelines  # noqa: F401 - streaming ingestion: ingest APIs, streams, raw tables, views
from app.ingest.tables import focus_cost, focus_quarantine, ingestion_log  # noqa: F401
from app.views.daily_cost import focus_daily_cost, focus_daily_cost_mv  # noqa: F401
from app.workflows import definitions  # noqa: F401 - daily-extraction, backfill, data-quality workflows
from app.workflows.tables import cost_anomalies, data_quality_results, workflow_runs, workflow_tasks  # noqa: F401
