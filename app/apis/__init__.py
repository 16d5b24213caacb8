"""Consumption APIs for analysts and BI tools (Moose ``Api``s) over the FOCUS table and its daily aggregates.

``params`` holds the query models (validation and OpenAPI documentation), ``queries`` the pure SQL builders,
``results`` the response shaping, ``endpoints`` the Moose declarations, ``server`` a loopback HTTP adapter.
"""
