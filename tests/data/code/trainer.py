"""A small training module used by the tests."""


def train(context, p1: int = 1, p2: str = "x", rate: float = 0.1, tags: list | None = None):
    """Train a model.

    :param context: the run context
    :param p1: number of epochs,
        spread over two lines
    :param p2: a label
    :returns: the accuracy
    """
    context.log_result("accuracy", p1 * 2)
    return p1 * 2


def prep(context, data, *args, limit=None, **kwargs) -> dict:
    """Prepare data.

    Args:
        data: the input table
        limit (int): max rows
    Returns:
        a summary
    """
    return {"rows": 0}


def _private():
    return None
