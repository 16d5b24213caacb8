"""ABI's Moose application: every declaration is imported here (and only imported)."""

from app.apis.endpoints import APIS  # noqa: F401
from app.ingest import pipelines  # noqa: F401 - streaming ingestion: ingest APIs, streams, raw tables, views
from app.ingest.tables import focus_cost, focus_quarantine, ingestion_log  # noqa: F401
from app.views.daily_cost import focus_daily_cost, focus_daily_cost_mv  # noqa: F401
