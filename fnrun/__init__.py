"""fnrun: serverless ML functions, run as tracked batch jobs or served as real-time graphs.

>>> import fnrun
>>> fn = fnrun.new_function("hello", kind="job", command="hello.py")
>>> fn.kind
'job'
"""

from fnrun.artifacts.model import get_model
from fnrun.datastore.dataitem import DataItem, get_dataitem
from fnrun.db import get_run_db
from fnrun.errors import FnrunError, InvalidArgumentError, NotFoundError, RunError, SchemaError
from fnrun.execution.context import RunContext
from fnrun.execution.standalone import get_or_create_ctx
from fnrun.execution.task import RunTemplate, new_task
from fnrun.projects import Project, get_or_create_project, load_project, new_project
from fnrun.runtimes.functions.base import BaseRuntime
from fnrun.runtimes.functions.factory import code_to_function, deploy_function, kinds, new_function
from fnrun.runtimes.functions.importer import import_function
from fnrun.runtimes.functions.registry import register_runtime
from fnrun.runtimes.launch.runobject import RunObject
from fnrun.version import __version__

__all__ = [
    "BaseRuntime",
    "DataItem",
    "FnrunError",
    "InvalidArgumentError",
    "NotFoundError",
    "Project",
    "RunContext",
    "RunError",
    "RunObject",
    "RunTemplate",
    "SchemaError",
    "__version__",
    "code_to_function",
    "deploy_function",
    "get_dataitem",
    "get_model",
    "get_or_create_ctx",
    "get_or_create_project",
    "get_run_db",
    "import_function",
    "kinds",
    "load_project",
    "new_function",
    "new_project",
    "new_task",
    "register_runtime",
]
