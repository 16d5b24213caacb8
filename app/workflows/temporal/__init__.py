"""The workflows on temporalio: workflow classes, activities, client helpers (the worker is app.workflows.worker)."""
