"""Handlers used by the run tests."""

import sys


def echo(context, p1: int = 1, p2: str = "x"):
    print(f"p1={p1} p2={p2}")
    print("to stderr", file=sys.stderr)
    context.logger.info("logged via context.logger")
    context.log_result("double", p1 * 2)
    return p1


def uses_secret(context):
    print("accesskey = {}".format(context.get_secret("ACCESS_KEY")))
    return "done"


def fails(context, p1: int = 1):
    print("about to fail")
    raise ValueError(f"bad value {p1}")


def zero(context):
    return 0


def two(context):
    return 0.5, "label"


def crash(context):
    import os

    print("going down", flush=True)
    os._exit(3)


def where(context):
    import os

    return os.getpid()


def score(context, x: float = 0.0, y: float = 0.0):
    """A loss that is always negative: best (max) is the one closest to zero."""
    context.log_result("neg", -((x - 2) ** 2) - (y - 1) ** 2 - 1)
    context.log_result("sum", x + y)
    if x < 0:
        raise ValueError("x must be >= 0")


def make_files(context):
    """Logs a file, a model folder and a dataset-like table (for the delete tests)."""
    context.log_artifact("notes", body="some notes", format="txt")
    context.log_model("weights", body=b"w", model_file="w.bin")
