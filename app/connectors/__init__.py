"""Source plugins and connectors: the plugin contract, discovery, the registry, syncs and their management API."""
