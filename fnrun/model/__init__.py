"""The data model: strict ``{kind, metadata, spec, status}`` documents with dict round-trip."""
