"""Function kinds (one module per kind + a registry) and the factories that build them.

May import: marketplace, mock, stream, serving, graph and every layer below; never projects,
service or the CLI.

Rooms, top to bottom (a room imports only rooms below it; the ``Runtimes`` contract in
``pyproject.toml``): nuclio/ (dashboard client, config, the processor's handler, which runs
the kinds), functions/ (the kind classes, factory, registry, importer, the run entry),
launch/ (fn.run: launcher, hyper-parameter runs, background runs, schedules, abort,
RunObject) | build/ (image builds: context, local builders, Kaniko), placements/ (where a
run's handler executes, one module per engine), kubernetes/ (cluster, workloads, manifests,
Job watch, deploy), local/ (child processes, CPU and memory limits, MPI rank lines, local
deploy, image builders, the Spark session here), progress/ (what fn.run shows) |
platforms.py (the serving platforms' registry). Below functions/, a function is typed as
``model.function_like.RuntimeLike``, never as the kinds' class.
"""
