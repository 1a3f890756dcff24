"""Database access: schemas, engines and (in later modules) queries. Only this package builds SQL."""
