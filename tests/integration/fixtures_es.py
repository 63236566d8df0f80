"""Session fixture: the managed Elasticsearch node (not built yet)."""
