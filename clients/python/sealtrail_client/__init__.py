"""Sealtrail's client: push events with retries and idempotency keys, check proofs on your
own side against the log's public key, and verify webhook signatures."""

from sealtrail_client.client import Client, SealtrailError
from sealtrail_client.proofs import (
    Checkpoint,
    ProofError,
    canonical_json,
    leaf_hash,
    verify_checkpoint,
    verify_consistency,
    verify_inclusion,
    verify_proof,
)
from sealtrail_client.webhooks import verify_signature

__all__ = [
    "Checkpoint",
    "Client",
    "ProofError",
    "SealtrailError",
    "canonical_json",
    "leaf_hash",
    "verify_checkpoint",
    "verify_consistency",
    "verify_inclusion",
    "verify_proof",
    "verify_signature",
]
