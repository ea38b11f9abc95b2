"""fn.run: the launcher (a call becomes a run request and is placed), hyper-parameter runs,
background runs (watch=False), schedules, abort, RunObject (the caller's handle) and progress
displays.

May import: placements/, kubernetes/, local/, progress/ and the layers below runtimes.
"""
