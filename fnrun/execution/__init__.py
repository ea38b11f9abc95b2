"""The one execution path: RunContext, handler binding, return logging, commit."""
