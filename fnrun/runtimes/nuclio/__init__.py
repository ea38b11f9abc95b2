"""Nuclio: the dashboard REST client, the function config (nuclio.io/v1) and the handler module a
processor loads.

May import: the layers below runtimes (and functions/ for the factory the processor's handler
uses).
"""
