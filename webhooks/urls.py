"""A webhook endpoint's URL: its form, where its host name points, and which addresses a
delivery may connect to.

At registration (:func:`check_url`) the URL must be an RFC 3986 URI with a host (no IPv6 zone
id), and the host must resolve now; unless the instance allows private targets
(``EVIDENCE_WEBHOOK_ALLOW_PRIVATE``), every address it resolves to must be public. Each refusal
is a 400 ``invalid_request`` whose ``details.reason`` says why (``zone_id``, ``not_a_uri``,
``unresolvable``, or the kind of address). Deliveries check the addresses again when they
connect (:func:`resolve_public`, used by the delivery transport).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from typing import Any
from urllib.parse import urlsplit

from evidence_chain.errors import ValidationError

MAX_URL_LEN = 2000
ALLOW_PRIVATE_SETTING = "EVIDENCE_WEBHOOK_ALLOW_PRIVATE"
_URI = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


class WebhookUrlRefusedError(ValidationError):
    """A webhook URL refused at registration (the code of any invalid request,
    ``invalid_request``; ``details.reason`` says why)."""


# --- form ----------------------------------------------------------------------------------------


def validate_url(url: Any) -> str:
    """An absolute http(s) URL with a host; ValidationError otherwise."""
    if not isinstance(url, str) or not url.strip():
        raise ValidationError("url is required: an http or https URL", details={"field": "url"})
    url = url.strip()
    if len(url) > MAX_URL_LEN:
        raise ValidationError(
            f"url is longer than {MAX_URL_LEN} characters", details={"field": "url"}
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationError("url is not a valid URL", details={"field": "url"}) from None
    if parts.scheme not in ("http", "https"):
        raise ValidationError(
            "url must use http or https", details={"field": "url", "scheme": parts.scheme}
        )
    if not parts.hostname or port == 0:
        raise ValidationError("url must name a host", details={"field": "url"})
    if parts.username is not None or parts.password is not None:
        raise ValidationError("url must not carry credentials", details={"field": "url"})
    if any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        raise ValidationError("url must not contain spaces", details={"field": "url"})
    if "%" in parts.netloc.rpartition("@")[2]:
        raise WebhookUrlRefusedError(
            "url's host must be a name or an address, without percent-encoding or an IPv6 "
            "zone id (a zone names an interface of one machine, not a host to deliver to)",
            details={"field": "url", "reason": "zone_id"},
        )
    if not _URI.fullmatch(url) or _BAD_PERCENT.search(url):
        raise WebhookUrlRefusedError(
            "url must be a URI (RFC 3986): ASCII only, with other characters percent-encoded "
            "and an international host name in its xn-- form",
            details={"field": "url", "reason": "not_a_uri"},
        )
    return url


# --- addresses -----------------------------------------------------------------------------------


class SendError(Exception):
    """The POST did not get an HTTP response (refused, timed out, TLS, DNS)."""


class BlockedAddressError(SendError):
    """The endpoint's host is, or resolves to, an address webhooks may not be sent to."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_SHARED = ipaddress.IPv4Network("100.64.0.0/10")  # RFC 6598 carrier-grade NAT
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the last 32 bits are an IPv4 address
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215


def blocked_reason(address: IPAddress) -> str | None:
    """Why webhooks may not go to ``address`` ("loopback", "private", ...); None if public."""
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv6 form of an IPv4 address reaches that IPv4 address: judge it as such.
        if address.ipv4_mapped is not None:
            return blocked_reason(address.ipv4_mapped)
        if address in _NAT64:  # DNS64 answers these for every IPv4-only name
            return blocked_reason(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        for embedded in (address.sixtofour, address.teredo[1] if address.teredo else None):
            if embedded is not None and (reason := blocked_reason(embedded)) is not None:
                return reason
        if address in _LOCAL_NAT64:
            return "private"
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"  # 169.254.0.0/16 (cloud metadata: 169.254.169.254), fe80::/10
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED:
        return "shared (carrier-grade NAT)"
    if address.is_reserved:
        return "reserved"  # 240.0.0.0/4 and the IPv6 blocks IANA has not allocated
    if address.is_private:
        return "private"  # RFC 1918, fc00::/7, and the other special-purpose blocks
    if not address.is_global:
        return "non-public"
    return None


def resolve_public(host: str, port: int) -> list[str]:
    """Resolve ``host`` once and return its addresses, all of them public; BlockedAddressError
    naming the first that is not (socket.gaierror when the name does not resolve)."""
    host = host.strip("[]")
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        text = str(sockaddr[0])
        reason = blocked_reason(ipaddress.ip_address(text))
        if reason is not None:
            try:
                ipaddress.ip_address(host)
                where = f"{host} is"
            except ValueError:
                where = f"{host} resolves to"
            article = "an" if reason[0] in "aeiou" else "a"
            raise BlockedAddressError(
                f"{where} {article} {reason} address; webhooks are sent only to public addresses "
                f"unless the instance sets {ALLOW_PRIVATE_SETTING}=true",
                reason=reason,
            )
        if text not in addresses:
            addresses.append(text)
    if not addresses:
        raise socket.gaierror(f"{host} has no address")
    return addresses


def check_url(url: str, *, allow_private: bool) -> None:
    """Refuse, at registration, a URL whose host does not resolve, or (unless
    ``allow_private``) resolves to any address that is not public."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        if allow_private:
            socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
        else:
            resolve_public(host, port)
    except BlockedAddressError as exc:
        raise WebhookUrlRefusedError(
            f"url is refused: {exc}",
            details={"field": "url", "host": host, "reason": exc.reason},
        ) from None
    except UnicodeError:
        raise WebhookUrlRefusedError(
            "url has an invalid host name", details={"field": "url", "reason": "invalid_host"}
        ) from None
    except OSError:
        raise WebhookUrlRefusedError(
            f"url's host {host} does not resolve: register the endpoint once its name is in "
            "the DNS",
            details={"field": "url", "host": host, "reason": "unresolvable"},
        ) from None
