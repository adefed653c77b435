"""Database table of the certificates of evidence issued (SQLModel).

The schema is created by the hand-written migration ``0004_reports``; this class must stay in
step with it. A row is written once per report and never updated: it keeps the exact bundle
embedded in the report (canonical JSON) so the public verify page can find it by report id.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Text
from sqlmodel import Field, SQLModel


class EvidenceReport(SQLModel, table=True):
    """A certificate of evidence issued for one subject of one tenant."""

    __tablename__ = "evidence_report"

    id: int | None = Field(default=None, primary_key=True)
    report_id: str = Field(max_length=40, unique=True, index=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    subject: str = Field(max_length=256)
    tree_size: int = Field(sa_column=Column(BigInteger, nullable=False))
    anchor_tree_size: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    bundle: str = Field(sa_column=Column(Text, nullable=False))
    bundle_sha256: str = Field(max_length=64)
    pdf_sha256: str = Field(max_length=64)
    created_at: datetime
