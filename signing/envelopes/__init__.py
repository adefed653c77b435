"""Envelopes: contracts sent to several parties who sign them in order, every step as evidence."""
