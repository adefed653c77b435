"""The envelope's state machine: one table of (state, action) -> state, and its guard.

Every status change of an envelope or of a party goes through :func:`advance` or
:func:`advance_party`; an action the table does not allow from the current state raises
:class:`IllegalTransitionError` (a conflict), naming the actions that are allowed from there.
docs/envelopes.md shows the same table.
"""

from __future__ import annotations

from enum import StrEnum

from evidence_chain.errors import ConflictError

__all__ = [
    "ENVELOPE_TABLE",
    "FINAL",
    "OPEN",
    "PARTY_TABLE",
    "STATUSES",
    "EnvelopeAction",
    "EnvelopeStatus",
    "IllegalTransitionError",
    "PartyAction",
    "PartyStatus",
    "advance",
    "advance_party",
    "allowed_actions",
    "allowed_party_actions",
    "allows",
]


class EnvelopeStatus(StrEnum):
    """The status of an envelope, as stored and as the API shows it."""

    DRAFT = "draft"
    SENT = "sent"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    VOIDED = "voided"


class EnvelopeAction(StrEnum):
    """What can happen to an envelope: by the initiator, by a party, or by the service."""

    SEND = "send"  # the initiator sends a draft; the first group gets its links
    REMIND = "remind"  # the initiator sends the parties whose turn it is a new link
    FIRST_SIGNATURE = "first_signature"  # the first party signs
    COMPLETE = "complete"  # the last party signs
    DECLINE = "decline"  # a party declines, with a reason
    WITHDRAW = "withdraw"  # the initiator withdraws it before completion
    EXPIRE = "expire"  # its expiry passes (the expiry job, or lazily on access)
    VOID = "void"  # the initiator voids it after completion (a VOID copy is issued)
    DELETE = "delete"  # the initiator deletes a draft (the rows go; nothing was evidence yet)


class PartyStatus(StrEnum):
    """The status of a party of an envelope."""

    PENDING = "pending"
    SIGNED = "signed"
    DECLINED = "declined"


class PartyAction(StrEnum):
    """What a party does through its link."""

    SIGN = "sign"
    DECLINE = "decline"


S, A = EnvelopeStatus, EnvelopeAction

ENVELOPE_TABLE: dict[tuple[EnvelopeStatus, EnvelopeAction], EnvelopeStatus | None] = {
    (S.DRAFT, A.SEND): S.SENT,
    (S.DRAFT, A.DELETE): None,  # None: the envelope is removed
    (S.SENT, A.REMIND): S.SENT,
    (S.SENT, A.FIRST_SIGNATURE): S.IN_PROGRESS,
    (S.SENT, A.DECLINE): S.DECLINED,
    (S.SENT, A.WITHDRAW): S.WITHDRAWN,
    (S.SENT, A.EXPIRE): S.EXPIRED,
    (S.IN_PROGRESS, A.REMIND): S.IN_PROGRESS,
    (S.IN_PROGRESS, A.COMPLETE): S.COMPLETED,
    (S.IN_PROGRESS, A.DECLINE): S.DECLINED,
    (S.IN_PROGRESS, A.WITHDRAW): S.WITHDRAWN,
    (S.IN_PROGRESS, A.EXPIRE): S.EXPIRED,
    (S.COMPLETED, A.VOID): S.VOIDED,
}
"""Every legal (state, action) of an envelope and the state it leads to; nothing else is."""

PARTY_TABLE: dict[tuple[PartyStatus, PartyAction], PartyStatus] = {
    (PartyStatus.PENDING, PartyAction.SIGN): PartyStatus.SIGNED,
    (PartyStatus.PENDING, PartyAction.DECLINE): PartyStatus.DECLINED,
}
"""Every legal (state, action) of a party and the state it leads to."""

STATUSES: tuple[str, ...] = tuple(s.value for s in EnvelopeStatus)
OPEN: tuple[EnvelopeStatus, ...] = (S.SENT, S.IN_PROGRESS)
"""The states in which parties act: links work, codes are sent, signatures are made."""
FINAL: tuple[EnvelopeStatus, ...] = tuple(
    s for s in EnvelopeStatus if not any(state == s for state, _ in ENVELOPE_TABLE)
)
"""The states with no way out (declined, withdrawn, expired, voided): the links stop working."""


class IllegalTransitionError(ConflictError):
    """An action the state machine does not allow from the current state.

    ``details``: ``status`` (the current state), ``action`` and ``allowed`` (the actions
    allowed from the current state, perhaps none).
    """

    def __init__(
        self, subject: str, status: str, action: str, allowed: tuple[str, ...], reason: str
    ) -> None:
        if allowed:
            tail = f"allowed for a {_words(status)} {subject}: {', '.join(allowed)}"
        else:
            tail = f"a {_words(status)} {subject} allows no further action"
        super().__init__(
            f"{reason} ({tail})",
            details={"status": status, "action": action, "allowed": list(allowed)},
        )


def _words(status: str) -> str:
    return status.replace("_", " ")


def allowed_actions(status: str) -> tuple[EnvelopeAction, ...]:
    """The actions the table allows an envelope in ``status``, in the table's order."""
    return tuple(action for (state, action) in ENVELOPE_TABLE if state == status)


def allows(status: str, action: EnvelopeAction) -> bool:
    """Whether ``action`` is legal for an envelope in ``status``."""
    return (EnvelopeStatus(status), action) in ENVELOPE_TABLE if status in STATUSES else False


def _envelope_reason(status: str, action: EnvelopeAction) -> str:
    """Why ``action`` is refused from ``status``, with what to do instead where there is one."""
    if action is A.SEND:
        return f"the envelope was already sent (it is {status})"
    if action is A.REMIND:
        return f"only a sent or in-progress envelope can be reminded (it is {status})"
    if action is A.WITHDRAW:
        if status == S.COMPLETED:
            return "a completed envelope cannot be withdrawn; void it instead"
        if status == S.DRAFT:
            return "a draft has not been sent, so it cannot be withdrawn; delete it instead"
        return f"the envelope is already {status}; it cannot be withdrawn"
    if action is A.VOID:
        if status in OPEN:
            hint = "withdraw it instead"
        elif status == S.DRAFT:
            hint = "delete it instead"
        else:
            hint = f"it is {status}"
        return f"only a completed envelope can be voided; {hint}"
    if action is A.DELETE:
        return (
            f"only a draft can be deleted; a {_words(status)} envelope is kept as evidence "
            "(withdraw it before completion, void it after)"
        )
    return f"an envelope that is {_words(status)} cannot {action.value.replace('_', ' ')}"


def advance(status: str, action: EnvelopeAction) -> EnvelopeStatus | None:
    """The state ``action`` takes an envelope in ``status`` to (None: the envelope is removed).

    Raises IllegalTransitionError, naming the allowed actions, when the table has no such
    transition.
    """
    if allows(status, action):
        return ENVELOPE_TABLE[(EnvelopeStatus(status), action)]
    raise IllegalTransitionError(
        "envelope",
        status,
        action.value,
        tuple(a.value for a in allowed_actions(status)),
        _envelope_reason(status, action),
    )


def allowed_party_actions(status: str) -> tuple[PartyAction, ...]:
    """The actions the table allows a party in ``status``."""
    return tuple(action for (state, action) in PARTY_TABLE if state == status)


def advance_party(status: str, action: PartyAction) -> PartyStatus:
    """The state ``action`` takes a party in ``status`` to; IllegalTransitionError if none."""
    for (state, act), target in PARTY_TABLE.items():
        if state == status and act is action:
            return target
    raise IllegalTransitionError(
        "party",
        status,
        action.value,
        tuple(a.value for a in allowed_party_actions(status)),
        f"you have already {status} this envelope",
    )
