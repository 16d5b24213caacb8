"""Pytest fixtures (helpers live in ``abitest``)."""

from abitest import samples, wh  # noqa: F401
