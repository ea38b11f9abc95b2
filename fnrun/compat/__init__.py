"""Other frameworks' import surfaces over fnrun: :mod:`fnrun.compat.mlrun` is what MLRun code
(the public function hub's, users' own) imports as ``mlrun``; :mod:`fnrun.compat.alias`
hands it to function code that says ``import mlrun``, and to nothing else in the process.
"""
