"""The one execution path: RunContext, handler binding, return logging, commit.

May import: artifacts, datastore, db, model, notebook and the shared leaves; never runtimes (a
function is typed as model.function_like.FunctionLike, the child entry is handed the kinds'
loader) and never compat (function code gets the MLRun surface by module name).
"""
