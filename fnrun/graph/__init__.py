"""Serving graphs: compile a graph spec once and serve events through sync or async engines."""
