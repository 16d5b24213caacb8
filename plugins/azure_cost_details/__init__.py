"""Azure Cost Details API source plugin (see README.md)."""

from plugins.azure_cost_details.plugin import AzureCostDetailsPlugin

__all__ = ["AzureCostDetailsPlugin"]
