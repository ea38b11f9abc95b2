"""One small error hierarchy with structured fields.

HTTP status mapping lives at the HTTP edge (``fnrun.service``); here each error only says
what went wrong, where (``field``) and how to fix it (``hint``).
"""

from __future__ import annotations


class FnrunError(Exception):
    """Base of every error fnrun raises on purpose."""

    def __init__(self, message: str, *, field: str = "", hint: str = "") -> None:
        self.message = message
        self.field = field
        self.hint = hint
        text = f"{field}: {message}" if field and not message.startswith(field) else message
        super().__init__(f"{text} ({hint})" if hint else text)

    def to_dict(self) -> dict[str, str]:
        """A JSON-ready body: ``{"error": class, "message", "field", "hint"}``."""
        return {
            "error": type(self).__name__,
            "message": self.message,
            "field": self.field,
            "hint": self.hint,
        }


class InvalidArgumentError(FnrunError, ValueError):
    """A value given by the user is malformed or out of range."""


class SchemaError(InvalidArgumentError):
    """A YAML/JSON/dict document does not match the data model (unknown key, wrong type)."""


class NotFoundError(FnrunError, LookupError):
    """The object asked for (function, run, artifact, tag, file) does not exist."""


class ConflictError(FnrunError):
    """The request contradicts the current state (e.g. code and source archive together)."""


class DBError(FnrunError):
    """The run DB failed after retries."""


class RunError(FnrunError):
    """A run ended in state ``error``; ``run`` holds its RunObject (results, logs, traceback)."""

    def __init__(self, message: str, run: object = None, **kwargs: str) -> None:
        super().__init__(message, **kwargs)
        self.run = run


class IntegrityError(FnrunError):
    """Stored data does not match the hash recorded when it was written (changed or replaced)."""


class AccessError(FnrunError):
    """The service refused the request: no token, or a wrong one."""
