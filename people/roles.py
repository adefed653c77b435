"""Roles of a tenant's people and what each may do: one table, checked in one place.

Organisations will add roles (seal keeper, approver, legal, auditor...) and actions here; the
console and the service ask :func:`allowed` and never compare role names themselves.
"""

from __future__ import annotations

from evidence_chain.errors import ForbiddenError

ROLES = ("owner", "admin", "member")

PERMISSIONS: dict[str, frozenset[str]] = {
    "console.view": frozenset({"owner", "admin", "member"}),
    "contracts.view": frozenset({"owner", "admin", "member"}),
    "contracts.manage": frozenset({"owner", "admin", "member"}),
    "members.view": frozenset({"owner", "admin"}),
    "members.invite": frozenset({"owner", "admin"}),
    "members.change_role": frozenset({"owner", "admin"}),
    "members.remove": frozenset({"owner", "admin"}),
    "members.grant_owner": frozenset({"owner"}),
    "webhooks.manage": frozenset({"owner", "admin"}),
    "api_keys.manage": frozenset({"owner", "admin"}),
}
"""Action -> the roles allowed to take it."""


def allowed(role: str, action: str) -> bool:
    """Whether ``role`` may take ``action`` (an unknown action is refused)."""
    return role in PERMISSIONS.get(action, frozenset())


def require(role: str, action: str) -> None:
    """ForbiddenError unless ``role`` may take ``action``."""
    if not allowed(role, action):
        raise ForbiddenError(
            "your role does not allow this", details={"reason": "role", "action": action}
        )


def check_role(role: str) -> str:
    """``role`` if it is one of :data:`ROLES`; ValidationError otherwise."""
    from evidence_chain.errors import ValidationError

    if role not in ROLES:
        raise ValidationError(
            f"unknown role {role!r}", details={"field": "role", "allowed": list(ROLES)}
        )
    return role
