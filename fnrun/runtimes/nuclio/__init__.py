"""Nuclio: the dashboard REST client, the function config (nuclio.io/v1) and the handler module a
processor loads.

May import: every runtimes room (the processor's handler builds the kinds' serving graph)
and the layers below runtimes.
"""
