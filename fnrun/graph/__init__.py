"""Serving graphs: compile a graph spec once and serve events through sync or async engines.

May import: execution and the layers below; storey, kafka, fastapi and kubernetes never at
module top. RunStep gets the kinds' importer through use_function_loader.
"""
