"""Scheduled extraction, backfill and data-quality workflows (Moose declarations + a temporalio implementation)."""
