"""Constants of the S3-compatible storage plugin."""

SOURCES = ("auto", "azure-cost", "azure-focus", "focus")
DATASETS = ("auto", "ActualCost", "AmortizedCost")
FILE_FORMATS = ["csv", "csv.gz", "parquet"]
