"""Local FOCUS files source plugin (see README.md)."""

from plugins.focus_file.plugin import FocusFilePlugin

__all__ = ["FocusFilePlugin"]
