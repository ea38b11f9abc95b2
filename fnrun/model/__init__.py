"""The data model: strict ``{kind, metadata, spec, status}`` documents with dict round-trip.

May import: notebook and the shared leaves.
"""
