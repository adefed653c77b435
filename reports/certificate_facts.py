"""What a certificate of evidence states about a subject, read from the records of its bundle:
the contract (title, declared parties) and every party with what the records say of it (its
identity, steps, addresses, user agents, how it authenticated, its certificates).

The layout (:mod:`reports.certificate`) draws these facts and reads nothing from the records
itself. Which record keys carry what is documented in ``docs/evidence-record.md``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


def actor_name(actor: Any) -> str:
    if actor is None:
        return "-"
    if isinstance(actor, str):
        return actor
    if isinstance(actor, dict):
        for key in ("name", "common_name", "display_name", "email", "id", "user_id"):
            if isinstance(actor.get(key), str) and actor[key]:
                return str(actor[key])
        if isinstance(actor.get("api_key_prefix"), str):
            return f"{actor.get('role') or 'API client'} (API key {actor['api_key_prefix']}...)"
    return json.dumps(actor, ensure_ascii=False, sort_keys=True)[:80]


def organisation(identity: Mapping[str, Any]) -> str | None:
    value = identity.get("organization") or identity.get("organisation")
    return str(value) if isinstance(value, str) and value else None


def party_key(actor: Any) -> str:
    """Who an actor is: by email or id when given, else by name (``common_name`` is a name)."""
    if isinstance(actor, dict):
        for key in ("party_id", "email", "id", "user_id", "api_key_prefix"):
            if isinstance(actor.get(key), str) and actor[key]:
                return f"{key}:{actor[key]}"
        for key in ("name", "common_name"):
            if isinstance(actor.get(key), str) and actor[key]:
                return f"name:{actor[key]}"
    if isinstance(actor, str):
        return f"name:{actor}"
    return json.dumps(actor, ensure_ascii=False, sort_keys=True)


def nested_records(record: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The places where a record may say how its actor was authenticated."""
    data = record.get("data") if isinstance(record.get("data"), dict) else {}
    assert isinstance(data, dict)
    places: list[Mapping[str, Any]] = [data]
    for key in ("authentication", "auth", "client", "request", "verification", "otp", "code"):
        if isinstance(data.get(key), dict):
            places.append(data[key])
    if isinstance(record.get("actor"), dict):
        places.append(record["actor"])
    return places


def first_of(record: Mapping[str, Any], keys: Iterable[str]) -> str | None:
    for place in nested_records(record):
        for key in keys:
            value = place.get(key)
            if isinstance(value, str | int | float) and not isinstance(value, bool) and value != "":
                return str(value)
    return None


def record_ip(record: Mapping[str, Any]) -> str | None:
    """The client IP address an event records, if any."""
    return first_of(record, ("ip", "ip_address", "client_ip", "remote_addr"))


def record_user_agent(record: Mapping[str, Any]) -> str | None:
    """The browser (user agent) an event records, if any."""
    return first_of(record, ("user_agent", "userAgent", "ua"))


def record_auth_methods(record: Mapping[str, Any]) -> list[str]:
    """How an event says its actor was authenticated (method, one-time code channel)."""
    out: list[str] = []
    method = first_of(record, ("method", "auth_method", "authentication_method", "verified_by"))
    channel = first_of(record, ("code_channel", "channel", "otp_channel"))
    data = record.get("data")
    if isinstance(data, dict) and isinstance(data.get("authentication"), str):
        out.append(data["authentication"])
    if method:
        out.append(method)
    if channel:
        out.append(f"one-time code by {channel}")
    rtype = str(record.get("type", ""))
    if isinstance(data, dict) and isinstance(data.get("certificate"), dict):
        out.append("digital signature (certificate)")
    elif rtype.endswith(("code_accepted", "code_verified", "otp_verified")):
        out.append("one-time code accepted")
    elif rtype.endswith("link_opened"):
        out.append("personal signing link opened")
    return out


@dataclass
class Party:
    name: str
    identity: dict[str, Any]
    role: str | None = None
    events: int = 0
    ips: list[str] | None = None
    agents: list[str] | None = None
    methods: list[str] | None = None
    certificates: list[str] | None = None  # sha256 of DER

    def add(self, bucket: str, value: str | None) -> None:
        if not value:
            return
        items: list[str] = getattr(self, bucket) or []
        if value not in items:
            items.append(value)
        setattr(self, bucket, items)


def contract_summary(bundle: Mapping[str, Any]) -> dict[str, Any]:
    """Title and declared parties of the subject, from its ``*.created`` record if there is one."""
    title: str | None = None
    declared: list[Any] = []
    for event in bundle.get("events", []):
        record = event.get("record", {})
        if not str(record.get("type", "")).endswith(".created"):
            continue
        data = record.get("data")
        if not isinstance(data, dict):
            continue
        for key in ("title", "name", "subject", "document_name"):
            if isinstance(data.get(key), str) and data[key]:
                title = data[key]
                break
        for key in ("parties", "signers", "recipients"):
            if isinstance(data.get(key), list):
                declared = list(data[key])
                break
        break
    return {"title": title, "parties": declared}


def collect_parties(bundle: Mapping[str, Any]) -> list[Party]:
    """The parties: those the contract declares, then every actor of its events."""
    parties: dict[str, Party] = {}
    for item in contract_summary(bundle)["parties"]:
        identity = item if isinstance(item, dict) else {"name": str(item)}
        key = party_key(identity)
        role = identity.get("role") if isinstance(identity.get("role"), str) else None
        parties.setdefault(key, Party(actor_name(identity), dict(identity), role))
    for event in bundle.get("events", []):
        record = event.get("record", {})
        actor = record.get("actor")
        if actor is None or (isinstance(actor, dict) and actor.get("role") == "system"):
            continue  # the service's own steps (expiry) are in the timeline, not a party
        key = party_key(actor)
        party = parties.get(key)
        if party is None:
            identity = dict(actor) if isinstance(actor, dict) else {"name": str(actor)}
            party = parties[key] = Party(actor_name(actor), identity)
        elif isinstance(actor, dict):
            for k, v in actor.items():
                party.identity.setdefault(k, v)
        party.events += 1
        party.add("ips", record_ip(record))
        party.add("agents", record_user_agent(record))
        for method in record_auth_methods(record):
            party.add("methods", method)
        data = record.get("data")
        if isinstance(data, dict) and isinstance(data.get("certificate"), dict):
            party.add("certificates", str(data["certificate"].get("sha256") or ""))
    return list(parties.values())


def document_versions(bundle: Mapping[str, Any]) -> tuple[int, int]:
    """(documents, versions) of a subject: every distinct SHA-256 is a version; versions that
    one record links (a document before and after a step, an item's hashes, one name) are
    versions of one document."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def join(items: Iterable[Any]) -> None:
        shas = [s for s in items if isinstance(s, str) and len(s) == 64]
        for sha in shas:
            find(sha)
        for other in shas[1:]:
            parent[find(other)] = find(shas[0])

    by_name: dict[str, list[str]] = {}
    for doc in bundle.get("documents", []):
        sha = doc.get("sha256")
        if isinstance(sha, str):
            find(sha)
            if isinstance(doc.get("name"), str) and doc["name"]:
                by_name.setdefault(doc["name"], []).append(sha)
    for shas in by_name.values():
        join(shas)
    for event in bundle.get("events", []):
        data = event.get("record", {}).get("data")
        if not isinstance(data, dict):
            continue
        join([data.get("sha256_before"), data.get("sha256_after")])
        items = data.get("documents")
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict):
                join([item.get("sha256"), item.get("sha256_before"), item.get("sha256_after")])
    versions = len(parent)
    documents = len({find(x) for x in list(parent)})
    return documents, versions


LONG = 200
"""A subject with more steps than this has a summary timeline in its certificate: the first
and the last ``LONG // 2`` steps, every kind of step counted; the attached bundle has all."""


def head_and_tail(count: int) -> tuple[range, range]:
    """The indexes printed of ``count`` rows: all, or the first and last ``LONG // 2``."""
    if count <= LONG:
        return range(count), range(0)
    half = LONG // 2
    return range(half), range(count - half, count)


def steps_by_kind(events: Iterable[Mapping[str, Any]]) -> list[tuple[str, int, str, str]]:
    """(type, count, first occurred_at, last occurred_at) of every kind of step, by count."""
    kinds: dict[str, list[Any]] = {}
    for event in events:
        record = event.get("record", {})
        kind = str(record.get("type", "-"))
        when = str(record.get("occurred_at", ""))
        found = kinds.setdefault(kind, [0, when, when])
        found[0] += 1
        found[1] = min(found[1], when)
        found[2] = max(found[2], when)
    return sorted(
        ((k, int(v[0]), str(v[1]), str(v[2])) for k, v in kinds.items()), key=lambda x: -x[1]
    )
