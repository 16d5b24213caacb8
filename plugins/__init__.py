"""ABI's bundled source plugins, one package per source (registered in the ``abi.plugins`` entry-point group)."""
