from fnrun.cli import main

main()
