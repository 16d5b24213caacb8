"""ClickHouse tables of the workflows, declared as Moose OlapTables (the embedded DDL derives from them)."""

from moose_lib import OlapConfig, OlapTable
from moose_lib.blocks import MergeTreeEngine

from app.models.workflows import CostAnomaly, DataQualityResult, WorkflowRunEvent, WorkflowTask

RUNS_TABLE = "workflow_runs"
TASKS_TABLE = "workflow_tasks"
QUALITY_TABLE = "data_quality_results"
ANOMALIES_TABLE = "cost_anomalies"
TABLES = (RUNS_TABLE, TASKS_TABLE, QUALITY_TABLE, ANOMALIES_TABLE)

workflow_runs = OlapTable[WorkflowRunEvent](
    RUNS_TABLE, OlapConfig(engine=MergeTreeEngine(), order_by_fields=["run_id", "recorded_at"]))

workflow_tasks = OlapTable[WorkflowTask](
    TASKS_TABLE, OlapConfig(engine=MergeTreeEngine(), order_by_fields=["run_key", "month", "finished_at"]))

data_quality_results = OlapTable[DataQualityResult](
    QUALITY_TABLE, OlapConfig(engine=MergeTreeEngine(), order_by_fields=["check", "connector", "billing_period",
                                                                         "checked_at"]))

cost_anomalies = OlapTable[CostAnomaly](
    ANOMALIES_TABLE, OlapConfig(engine=MergeTreeEngine(), order_by_fields=["day", "sub_account_id", "service_name"],
                                partition_by="toYYYYMM(day)"))
