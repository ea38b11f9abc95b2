"""The mock server: a serving graph in-process (``fn.to_mock_server()``, ``server.test``),
with MockEvent/MockContext on nuclio-sdk's types and in-memory streams for queue steps.

May import: graph and the layers below it (never runtimes/: the function hands the mock its
graph server).
"""
