"""Function kinds (one module per kind + a registry) and the factories that build them."""
