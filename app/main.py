"""ABI's Moose application: every declaration is imported here (and only imported)."""

from app.ingest import pipelines  # noqa: F401 - streaming ingestion: ingest APIs, streams, raw tables, views
from app.ingest.tables import focus_cost, focus_quarantine, ingestion_log  # noqa: F401
