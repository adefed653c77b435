"""What a party receives, in Chinese and in English: its signing link and its one-time code.

A party's language is not known, so every message carries both, Chinese first (as the
platforms our users know do). It names the organisation that sent the contract and its
message, and shows the link's expiry in the sender's time zone with UTC beside it. An email
is sent as plain text with an HTML alternative (see :mod:`messages.delivery`); a text
message stays short.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, select

from evidence_chain.clock import aware
from evidence_chain.models import Tenant

TENANT = Tenant.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Sender:
    """The organisation a contract comes from, and its time zone."""

    name: str
    zone: ZoneInfo

    @classmethod
    def of(cls, conn: Connection, tenant_id: int) -> Sender:
        """The envelope's tenant, read in the caller's transaction."""
        row = conn.execute(
            select(TENANT.c.name, TENANT.c.time_zone).where(TENANT.c.id == tenant_id)
        ).one()
        try:
            zone = ZoneInfo(str(row.time_zone))
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")
        return cls(str(row.name), zone)

    def when(self, moment: dt.datetime | None) -> tuple[str, str]:
        """(Chinese, English) of a time: in the sender's zone, UTC beside."""
        if moment is None:
            return "无期限", "no expiry"
        utc = aware(moment).astimezone(dt.UTC)
        utc_text = utc.strftime("%Y-%m-%d %H:%M UTC")
        if self.zone.key == "UTC":
            return utc_text, utc_text
        local = utc.astimezone(self.zone).strftime("%Y-%m-%d %H:%M")
        both = f"{local} {self.zone.key} ({utc_text})"
        return both, both


def link_notice(
    *,
    channel: str,
    party_name: str,
    title: str,
    message: str | None,
    link: str,
    expires_at: dt.datetime | None,
    sender: Sender,
    reminder: bool,
) -> tuple[str, str]:
    """(subject, body) of the message that carries a party's signing link."""
    expires_zh, expires_en = sender.when(expires_at)
    if channel != "email":
        lead_zh, lead_en = ("【提醒】", "Reminder: ") if reminder else ("", "")
        return (
            f"{lead_en}Please sign: {title}",
            f"{lead_zh}{sender.name}邀请您签署「{title}」：{link}\n"
            f'{lead_en}{sender.name} asks you to sign "{title}": {link}',
        )
    subject = (
        f"提醒：请签署「{title}」 / Reminder: please sign {title}"
        if reminder
        else f"请签署「{title}」 / Please sign: {title}"
    )
    zh = [
        f"{party_name}，您好：",
        "",
        f"{'提醒：' if reminder else ''}{sender.name} 邀请您签署「{title}」。",
    ]
    en = [
        f"Hello {party_name},",
        "",
        f'{"Reminder: " if reminder else ""}{sender.name} asks you to sign "{title}".',
    ]
    if message:
        zh += ["", f"发件方留言：{message}"]
        en += ["", f"Message from {sender.name}: {message}"]
    zh += [
        "",
        "请打开以下链接查看文件并签署：",
        link,
        "",
        f"该链接仅供您本人使用，有效期至 {expires_zh}。",
    ]
    en += [
        "",
        "Open the documents and sign here:",
        link,
        "",
        f"The link is personal and expires on {expires_en}.",
    ]
    return subject, "\n".join([*zh, "", "—— English ——", "", *en]) + "\n"


def code_notice(*, channel: str, title: str, code: str, minutes: int) -> tuple[str, str]:
    """(subject, body) of the message that carries a one-time code."""
    body = (
        f"您的 Sealtrail 签署验证码为 {code}，{minutes} 分钟内有效。"
        "请勿泄露：Sealtrail 不会向您索要验证码。\n"
        f"Your Sealtrail signing code is {code}. It is valid for {minutes} minutes.\n"
        "Never share it: nobody from Sealtrail will ask you for it.\n"
    )
    return f"「{title}」的签署验证码 / Your signing code for {title}", body
