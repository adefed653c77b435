"""What a sender raises when a message is not taken."""

from __future__ import annotations


class SendRefused(Exception):
    """The mail server or the gateway did not take the message; ``permanent`` if retrying
    cannot help."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent
