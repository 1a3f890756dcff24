"""The message broker, through kombu: AMQP (RabbitMQ) in production, memory:// embedded."""

from __future__ import annotations

from kombu import Connection


def check_broker(url: str, timeout: float) -> None:
    """Raise if the broker at `url` cannot be reached within `timeout` seconds."""
    with Connection(url, connect_timeout=timeout, transport_options={"max_retries": 0}) as conn:
        conn.ensure_connection(max_retries=1, timeout=timeout)
