"""Request bodies of the signing endpoints: the ``placements``, ``reserve_fields`` and
``signer`` form fields of ``POST /api/v1/documents/sign``, parsed and checked into the
signing library's types.

Every refusal is a ValidationError naming the field, answered with the JSON error envelope.
The placement types are imported on first use, so importing this module does not load pyHanko.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from evidence_chain.core.canonical import parse_json
from evidence_chain.errors import CanonicalizationError, ValidationError
from evidence_chain.tenants import TenantRef
from signing.pki import Identity

if TYPE_CHECKING:
    from signing.placement import FieldReservation, Placement

_PLACEMENT_KEYS = {
    "explicit": {"kind", "page", "x", "y", "width", "height"},
    "field": {"kind", "name"},
    "every_page": {"kind", "x", "y", "width", "height", "pages"},
    "riding": {"kind", "y", "width", "height", "pages"},
}
_IDENTITY_KEYS = {
    "name",
    "kind",
    "organization",
    "organizational_unit",
    "organization_identifier",
    "email",
    "country",
    "serial_number",
}
MAX_PLACEMENTS = 20


def _number(raw: Any, label: str, *, required: bool = True) -> float | None:
    if raw is None and not required:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise ValidationError(f"{label} must be a number", details={"field": label})
    return float(raw)


def _page_list(raw: Any, label: str) -> tuple[int, ...] | None:
    if raw is None:
        return None
    if (
        not isinstance(raw, list)
        or not raw
        or not all(isinstance(p, int) and not isinstance(p, bool) for p in raw)
    ):
        raise ValidationError(f"{label} must be a non-empty list of page numbers")
    return tuple(raw)


def _json_value(raw: str | None, label: str) -> Any:
    if raw is None or raw.strip() == "":
        return None
    try:
        return parse_json(raw)
    except CanonicalizationError as exc:
        raise ValidationError(
            f"{label} is not valid JSON: {exc.message}", details={"field": label}
        ) from None


def parse_placements(raw: str | None) -> list[Placement]:
    """Parse the ``placements`` form field (a JSON list) into library placements."""
    from signing.placement import Placement

    value = _json_value(raw, "placements")
    if value is None:
        raise ValidationError("placements are required", details={"field": "placements"})
    if not isinstance(value, list) or not value:
        raise ValidationError(
            "placements must be a non-empty JSON list", details={"field": "placements"}
        )
    if len(value) > MAX_PLACEMENTS:
        raise ValidationError(
            f"at most {MAX_PLACEMENTS} placements", details={"field": "placements"}
        )
    out: list[Placement] = []
    for i, item in enumerate(value):
        label = f"placements[{i}]"
        if not isinstance(item, dict):
            raise ValidationError(f"{label} must be an object", details={"field": label})
        kind = item.get("kind")
        if kind not in _PLACEMENT_KEYS:
            raise ValidationError(
                f"{label}.kind must be one of {sorted(_PLACEMENT_KEYS)}",
                details={"field": f"{label}.kind"},
            )
        unknown = sorted(set(item) - _PLACEMENT_KEYS[kind])
        if unknown:
            raise ValidationError(
                f"{label}: unknown key {unknown[0]!r} for a {kind} placement",
                details={"field": f"{label}.{unknown[0]}"},
            )
        width = _number(item.get("width"), f"{label}.width", required=False)
        height = _number(item.get("height"), f"{label}.height", required=False)
        if kind == "explicit":
            page = item.get("page")
            if not isinstance(page, int) or isinstance(page, bool):
                raise ValidationError(
                    f"{label}.page must be a page number", details={"field": f"{label}.page"}
                )
            x = _number(item.get("x"), f"{label}.x")
            y = _number(item.get("y"), f"{label}.y")
            assert x is not None and y is not None
            out.append(Placement.explicit(page, x, y, width, height))
        elif kind == "field":
            name = item.get("name")
            if not isinstance(name, str) or not name.strip():
                raise ValidationError(
                    f"{label}.name must be a field name", details={"field": f"{label}.name"}
                )
            out.append(Placement.named_field(name))
        elif kind == "every_page":
            x = _number(item.get("x"), f"{label}.x")
            y = _number(item.get("y"), f"{label}.y")
            assert x is not None and y is not None
            pages = _page_list(item.get("pages"), f"{label}.pages")
            out.append(Placement.every_page(x, y, width, height, pages))
        else:
            y = _number(item.get("y"), f"{label}.y", required=False)
            pages = _page_list(item.get("pages"), f"{label}.pages")
            out.append(Placement.riding(y, width, height, pages))
    return out


def parse_reservations(raw: str | None) -> tuple[FieldReservation, ...]:
    """Parse ``reserve_fields``: [{"name", "page", "x", "y", "width", "height"}, ...]."""
    from signing.placement import FieldReservation

    value = _json_value(raw, "reserve_fields")
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValidationError(
            "reserve_fields must be a JSON list", details={"field": "reserve_fields"}
        )
    out = []
    for i, item in enumerate(value):
        label = f"reserve_fields[{i}]"
        if not isinstance(item, dict) or set(item) != {"name", "page", "x", "y", "width", "height"}:
            raise ValidationError(
                f"{label} must be an object with name, page, x, y, width, height",
                details={"field": label},
            )
        name, page = item["name"], item["page"]
        if not isinstance(name, str) or not name.strip():
            raise ValidationError(f"{label}.name must be a field name", details={"field": label})
        if not isinstance(page, int) or isinstance(page, bool):
            raise ValidationError(f"{label}.page must be a page number", details={"field": label})
        nums = [_number(item[k], f"{label}.{k}") for k in ("x", "y", "width", "height")]
        x, y, w, h = (float(n or 0.0) for n in nums)
        if w <= 0 or h <= 0:
            raise ValidationError(f"{label}: width and height must be positive")
        out.append(FieldReservation(name, page, x, y, w, h))
    return tuple(out)


def parse_identity(raw: str | None, tenant: TenantRef) -> Identity:
    """The signer identity from the ``signer`` form field; by default the tenant itself."""
    value = _json_value(raw, "signer")
    if value is None:
        return Identity(tenant.name[:64], kind="organization")
    if not isinstance(value, dict):
        raise ValidationError("signer must be a JSON object", details={"field": "signer"})
    unknown = sorted(set(value) - _IDENTITY_KEYS)
    if unknown:
        raise ValidationError(
            f"signer: unknown key {unknown[0]!r}", details={"field": f"signer.{unknown[0]}"}
        )
    for key, item in value.items():
        if item is not None and (not isinstance(item, str) or len(item) > 64):
            raise ValidationError(
                f"signer.{key} must be a string of at most 64 characters",
                details={"field": f"signer.{key}"},
            )
    name = value.get("name")
    if not name:
        raise ValidationError("signer.name is required", details={"field": "signer.name"})
    kind = value.get("kind") or ("organization" if value.get("organization_identifier") else None)
    kind = kind or "person"
    if kind not in ("person", "organization"):
        raise ValidationError("signer.kind is person or organization")
    return Identity(
        common_name=name,
        kind="organization" if kind == "organization" else "person",
        organization=value.get("organization"),
        organizational_unit=value.get("organizational_unit"),
        country=value.get("country", "CN"),
        serial_number=value.get("serial_number"),
        organization_identifier=value.get("organization_identifier"),
        email=value.get("email"),
    )


__all__ = ["MAX_PLACEMENTS", "parse_identity", "parse_placements", "parse_reservations"]
