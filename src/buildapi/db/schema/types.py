"""Column helpers shared by the three schemas."""

from sqlalchemy import Index

# MySQL/MariaDB cannot index a long VARCHAR or TEXT whole; index its first 255 characters.
PREFIX = 255


def prefix_index(name: str, *columns: object, pattern: bool = False) -> Index:
    """An index that works on every engine: MySQL gets key prefixes; PostgreSQL pattern ops
    (so `LIKE 'abc%'` prefix lookups use it) when `pattern` is set."""
    keyed = [getattr(column, "name", column) for column in columns]
    kwargs: dict[str, object] = {"mysql_length": {str(key): PREFIX for key in keyed}}
    if pattern:
        kwargs["postgresql_ops"] = {str(key): "varchar_pattern_ops" for key in keyed}
    return Index(name, *columns, **kwargs)
