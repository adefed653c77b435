"""Anchoring the log's checkpoints on an Ethereum-compatible chain.

``service`` records, sends and watches anchors; ``chain`` is the web3 adapter (and the
in-process double); ``contract`` the EvidenceAnchor ABI and deployment; ``localchain`` the
embedded anvil node. Anchoring knows nothing of webhooks: status changes go to listeners that
the composition root (``runtime``) wires.
"""
