"""Fixtures of the plugin and connector tests (defined in ``connectortest``)."""

from connectortest import fake_azure, pg, registry, s3, sqlite_registry, waits  # noqa: F401
