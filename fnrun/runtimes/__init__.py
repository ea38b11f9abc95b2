"""Function kinds (one module per kind + a registry) and the factories that build them.

May import: marketplace, mock, stream, serving, graph and every layer below; never projects,
service or the CLI.

Folders: functions/ (the kind classes, factory, registry, importer: the top), launch/ (fn.run:
launcher, hyper-parameter runs, background runs, schedules, abort, RunObject, progress),
placements/ (where a run's handler executes, one module per engine), kubernetes/ (cluster,
workloads, manifests, Job watch, deploy, Kaniko), nuclio/ (dashboard client, config, the
processor's handler), local/ (child processes, CPU and memory limits, local deploy and image
builders), build/ (image builds).
"""
