"""fnrun's version (one place: the facade, the CLI and the service image tag read it)."""

__version__ = "0.1.0"
