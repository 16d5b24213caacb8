"""Pytest fixtures (helpers live in ``abitest``)."""

from abitest import samples, scratch, wh  # noqa: F401
from connectortest import months_ago, today  # noqa: F401
