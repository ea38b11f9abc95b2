"""Other frameworks' import surfaces over fnrun: :mod:`fnrun.compat.mlrun` is what MLRun code
(the public function hub's, users' own) imports as ``mlrun``; :mod:`fnrun.execution.mlrun_alias`
hands it to function code that says ``import mlrun``, and to nothing else in the process.

May import: anything in fnrun (the top layer: MLRun's names over fnrun's objects); nothing in
fnrun imports it (function code reaches it through execution.mlrun_alias, by module name).
"""
