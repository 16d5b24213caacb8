"""ClickHouse tables of the core data path, declared as Moose OlapTables.

The FOCUS table is partitioned by billing month. A load replaces, inside each month it touches, exactly the
rows of the (dataset, billing account, sub account) scopes it brings, with an atomic ``REPLACE PARTITION``:
re-loading the same billing period of the same source never duplicates.
"""

from moose_lib import OlapConfig, OlapTable
from moose_lib.blocks import MergeTreeEngine

from app.models.focus import FocusCost
from app.models.ingestion import IngestionFile, QuarantinedRow
from app.models.names import FOCUS_PARTITION_BY, FOCUS_TABLE, INGESTION_LOG_TABLE, QUARANTINE_TABLE

__all__ = ["FOCUS_PARTITION_BY", "FOCUS_TABLE", "INGESTION_LOG_TABLE", "QUARANTINE_TABLE", "focus_cost",
           "focus_quarantine", "ingestion_log"]

focus_cost = OlapTable[FocusCost](
    FOCUS_TABLE,
    OlapConfig(
        engine=MergeTreeEngine(),
        order_by_expression="(BillingAccountId, toDate(ChargePeriodStart), ServiceCategory, ServiceName)",
        partition_by=FOCUS_PARTITION_BY,
    ),
)

focus_quarantine = OlapTable[QuarantinedRow](
    QUARANTINE_TABLE,
    OlapConfig(
        engine=MergeTreeEngine(),
        order_by_fields=["source_file", "source_row"],
        partition_by="toYYYYMM(quarantined_at)",
    ),
)

ingestion_log = OlapTable[IngestionFile](
    INGESTION_LOG_TABLE,
    OlapConfig(engine=MergeTreeEngine(), order_by_fields=["ingestion_id", "source_file"]),
)
