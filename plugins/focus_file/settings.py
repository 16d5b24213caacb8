"""Constants of the local FOCUS files plugin."""

SOURCES = ("focus", "azure-focus", "auto")
FILE_FORMATS = ["csv", "csv.gz", "parquet"]
