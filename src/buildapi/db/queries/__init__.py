"""Queries, one module per table family. Each function takes an open Connection, so callers
decide the transaction; rows come back as frozen dataclasses."""
