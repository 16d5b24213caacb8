"""Materialized views of daily aggregates over the FOCUS table (SQL in ``sql/views/``)."""
