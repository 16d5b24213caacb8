"""Legacy EA reporting API source plugin (retired by Microsoft; see README.md)."""

from plugins.azure_ea.plugin import AzureEaPlugin

__all__ = ["AzureEaPlugin"]
