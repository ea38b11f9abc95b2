import sys

if sys.argv[1:] == ["exec", "--from-env"] or sys.argv[1:3] == ["exec", "--fork-server"]:
    # The child side of a run: skip the CLI framework (typer costs ~0.3 s to import).
    if sys.argv[2] == "--fork-server":
        # a caller's fork server (fnrun.runtimes.local.forkserver): it imports once, then forks
        # a process per run, which goes on below with that run's environment and output
        from fnrun.runtimes.local.forkserver import serve

        if not serve(sys.argv):
            sys.exit(0)
    from fnrun.runtimes.functions.entry import main as exec_main

    sys.exit(exec_main())

from fnrun.cli import main

main()
