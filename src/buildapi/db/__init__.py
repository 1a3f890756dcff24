"""Database access: schemas, engines, setup and queries. Only this package builds SQL."""
