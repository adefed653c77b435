"""What reports read from an instance: its settings, database, ledger and anchors.

A protocol, so the reports depend on what they use and not on how the instance is put
together; ``runtime.services.Services`` is the one implementation.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Engine

from evidence_chain.anchoring.records import AnchorRecords
from evidence_chain.anchoring.service import Anchorer
from evidence_chain.config import Settings
from evidence_chain.ledger import Ledger


class EvidenceSources(Protocol):
    """The parts of an instance that bundles, reports and verification read."""

    @property
    def settings(self) -> Settings:
        """The instance's settings."""

    @property
    def engine(self) -> Engine:
        """The instance's database."""

    @property
    def ledger(self) -> Ledger:
        """The evidence log."""

    @property
    def anchors(self) -> AnchorRecords:
        """The anchor records."""

    @property
    def anchorer(self) -> Anchorer | None:
        """The anchoring service (None when anchoring is disabled)."""
