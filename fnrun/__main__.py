import sys

if sys.argv[1:] == ["exec", "--from-env"]:
    # The child side of a run: skip the CLI framework (typer costs ~0.3 s to import).
    from fnrun.runtimes.functions.entry import main as exec_main

    sys.exit(exec_main())

from fnrun.cli import main

main()
