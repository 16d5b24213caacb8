"""Pytest fixtures (helpers live in ``abitest``)."""

from abitest import samples, scratch, wh  # noqa: F401
