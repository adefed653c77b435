"""Webhooks: a tenant's endpoints, and the signed, retried deliveries of its events to them."""
