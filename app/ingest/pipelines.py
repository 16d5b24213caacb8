"""Streaming ingestion, declared for Moose: one ``IngestPipeline`` per source format, mapped to FOCUS in SQL.

``POST /ingest/<name>`` → stream (topic) → raw table ``<name>`` (Moose's topic-to-table sync) → two materialized
views running the bulk path's mapping (``app/ingest/stream_sql.py``): valid rows into ``focus_cost``, invalid rows
with their reasons into ``focus_quarantine``. Records the ingest API refuses go to the pipeline's dead-letter queue,
and a stream transform moves each dead letter into ``focus_quarantine`` through ``quarantine_stream``.
"""

from __future__ import annotations

from dataclasses import dataclass

from moose_lib import (
    IngestPipeline,
    IngestPipelineConfig,
    MaterializedView,
    MaterializedViewOptions,
    OlapConfig,
    SqlResource,
    Stream,
    StreamConfig,
)
from moose_lib.blocks import MergeTreeEngine
from pydantic import BaseModel

from app.ingest import stream_sql
from app.ingest.dead_letters import DeadLetter, to_quarantine
from app.ingest.lookup_resource import lookup_setup, lookup_teardown
from app.ingest.raw import AzureCostRow, AzureFocusRow, FocusRow
from app.ingest.tables import focus_cost, focus_quarantine
from app.models.focus import FocusCost
from app.models.ingestion import QuarantinedRow

SOURCES: dict[str, tuple[str, type[BaseModel]]] = {
    "azure-cost": ("azure_cost_rows", AzureCostRow),
    "azure-focus": ("azure_focus_rows", AzureFocusRow),
    "focus": ("focus_rows", FocusRow),
}
"""Source format → (pipeline name: ingest path, stream, raw table; raw-row model)."""


@dataclass
class SourcePipeline:
    """What one source format declares."""

    fmt: str
    pipeline: IngestPipeline
    to_focus: MaterializedView
    to_quarantine: MaterializedView


_setup = lookup_setup()
lookups = SqlResource("abi_lookups", setup=_setup, teardown=lookup_teardown(_setup))
"""The mapping's lookup tables, created by Moose before the views that join them."""

quarantine_stream = Stream[QuarantinedRow]("quarantine_rows", StreamConfig(destination=focus_quarantine))
"""Dead letters as quarantine rows, synced into ``focus_quarantine``."""


def _pipeline(fmt: str, name: str, model: type[BaseModel]) -> SourcePipeline:
    table = OlapConfig(engine=MergeTreeEngine(), order_by_expression="tuple()")
    pipeline = IngestPipeline[model](name, IngestPipelineConfig(table=table, stream=True, ingest_api=True,
                                                                dead_letter_queue=True))
    dlq = pipeline.get_dead_letter_queue()
    dlq._t = DeadLetter  # read Moose's camelCase dead letters (see app/ingest/dead_letters.py)
    dlq.add_transform(quarantine_stream, to_quarantine(fmt, name, model))
    raw = pipeline.get_table()
    to_focus = MaterializedView[FocusCost](MaterializedViewOptions(
        select_statement=stream_sql.focus_select(fmt, name), select_tables=[raw, focus_cost],
        materialized_view_name=f"{name}_to_focus"), target_table=focus_cost)
    to_quarantine_mv = MaterializedView[QuarantinedRow](MaterializedViewOptions(
        select_statement=stream_sql.quarantine_select(fmt, name), select_tables=[raw, focus_cost, focus_quarantine],
        materialized_view_name=f"{name}_to_quarantine"), target_table=focus_quarantine)
    lookups.pushes_data_to += [to_focus, to_quarantine_mv]
    return SourcePipeline(fmt, pipeline, to_focus, to_quarantine_mv)


PIPELINES: dict[str, SourcePipeline] = {fmt: _pipeline(fmt, name, model) for fmt, (name, model) in SOURCES.items()}
