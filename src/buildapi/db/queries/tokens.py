"""API tokens: only their SHA-256 is stored; the token itself is shown once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from buildapi.db.schema.buildapi import api_tokens


@dataclass(frozen=True)
class TokenRow:
    id: int
    user: str
    groups: tuple[str, ...]
    created_at: int
    last_used_at: int | None
    revoked_at: int | None


def _token(row: Any) -> TokenRow:
    return TokenRow(
        id=row.id,
        user=row.user,
        groups=tuple(group for group in row.groups.split(",") if group),
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


def add_token(
    connection: Connection, user: str, groups: tuple[str, ...], token_hash: str, now: int
) -> int:
    values = {
        "user": user,
        "groups": ",".join(groups),
        "token_hash": token_hash,
        "created_at": now,
    }
    with connection.begin():
        result = connection.execute(insert(api_tokens).values(**values))
    return int(result.inserted_primary_key[0])


def list_tokens(connection: Connection, user: str | None = None) -> list[TokenRow]:
    query = select(api_tokens).order_by(api_tokens.c.id)
    if user is not None:
        query = query.where(api_tokens.c.user == user)
    with connection.begin():
        return [_token(row) for row in connection.execute(query)]


def revoke_token(connection: Connection, token_id: int, now: int) -> bool:
    """False when there is no such live token."""
    with connection.begin():
        result = connection.execute(
            update(api_tokens)
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    return result.rowcount == 1


def use_token(connection: Connection, token_hash: str, now: int) -> TokenRow | None:
    """The live token with this hash, its last use noted (at most once a minute)."""
    query = select(api_tokens).where(
        api_tokens.c.token_hash == token_hash, api_tokens.c.revoked_at.is_(None)
    )
    with connection.begin():
        row = connection.execute(query).first()
        if row is None:
            return None
        if row.last_used_at is None or now - row.last_used_at >= 60:
            connection.execute(
                update(api_tokens).where(api_tokens.c.id == row.id).values(last_used_at=now)
            )
    return _token(row)
