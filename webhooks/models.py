"""Database tables of webhooks (SQLModel): endpoints, deliveries and delivery attempts.

The schema is created by the hand-written migration ``0007_webhooks``; these classes must stay
in step with it. An endpoint's secret is kept sealed by the instance's master key (it has to
be read back to compute each delivery's HMAC, so it cannot be stored hashed). A delivery is
one event for one endpoint; its attempts are its history and are never deleted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, LargeBinary, Text
from sqlmodel import Field, SQLModel


class WebhookEndpoint(SQLModel, table=True):
    """A tenant's URL that receives the events it subscribed to."""

    __tablename__ = "webhook_endpoint"

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=40, unique=True, index=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    url: str = Field(sa_column=Column(Text, nullable=False))
    events: str = Field(sa_column=Column(Text, nullable=False))
    secret_blob: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    secret_prefix: str = Field(max_length=16)
    active: bool = True
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None


class WebhookDelivery(SQLModel, table=True):
    """One event to send to one endpoint, retried with backoff until it succeeds or dies."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=40, unique=True, index=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    endpoint_id: int = Field(foreign_key="webhook_endpoint.id", index=True)
    event: str = Field(max_length=64)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(max_length=16)
    attempts: int = 0
    next_attempt_at: datetime | None = None
    lease_owner: str | None = Field(default=None, max_length=40)
    lease_until: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    replay_of: int | None = Field(default=None, foreign_key="webhook_delivery.id")
    created_at: datetime
    delivered_at: datetime | None = None


class WebhookAttempt(SQLModel, table=True):
    """One POST of a delivery: when, the HTTP status (if any), how long, what went wrong."""

    __tablename__ = "webhook_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="webhook_delivery.id", index=True)
    attempted_at: datetime
    status_code: int | None = None
    duration_ms: int
    error: str | None = Field(default=None, max_length=500)
