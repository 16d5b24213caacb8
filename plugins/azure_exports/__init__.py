"""Cost Management exports source plugin (see README.md)."""

from plugins.azure_exports.plugin import AzureExportsPlugin

__all__ = ["AzureExportsPlugin"]
