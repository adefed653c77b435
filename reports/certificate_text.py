"""Every word of the certificate of evidence, in English and Chinese, and how times are shown.

A certificate is written in its tenant's language (``zh`` or ``en``; ``?lang=`` chooses);
its first page carries both (``证据证书 / Certificate of evidence``), so a court reading
either language finds its way. Times are shown in the tenant's time zone with UTC beside
them. :class:`Words` is what the layout asks: ``w.t(key)`` plain text, ``w.rich(key, ...)``
paragraph markup with the values escaped and Chinese set in the CJK face.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reports.certificate_style import markup

LANGUAGES = ("en", "zh")

DEVELOPMENT_CHAINS = {31337: "Anvil / Hardhat", 1337: "Ganache / Geth dev"}
"""Chain ids of local development chains: a certificate anchored on one says so."""

TEXT: dict[str, tuple[str, str]] = {
    "title": ("Certificate of evidence", "证据证书"),
    "report_issued": ("Report <b>{id}</b>, issued {when}", "报告编号 <b>{id}</b>，出具于 {when}"),
    "issued_by": ("Issued and signed by {issuer} ({url})", "出具并签名：{issuer}（{url}）"),
    "scan": ("Scan to verify", "扫码验证"),
    "what_this_is": ("What this is", "这是什么"),
    "what_text": (
        "This certificate records, for the contract named below, every step that was taken "
        "with it: what was signed, by whom, how each person was identified, and when. Each step "
        "was written, when it happened, into a log that can only grow and that anyone can "
        "check: each step is fingerprinted (SHA-256), the fingerprints are combined into one "
        "value (the root) that the log signs, and that root is recorded on {chain}. A change to "
        "any step, even of one character, would give a different root. The complete evidence "
        "is attached inside this PDF (file evidence-bundle.json), and this PDF is digitally "
        "signed, so any change to it shows. Anyone can check it without trusting the issuer: "
        "see the last section, or scan the code above.",
        "本证书记录了下列合同经历的每一个步骤：签署了什么、由谁签署、每个人如何验证身份、在何时。"
        "每个步骤在发生时即写入一份只增不减、任何人都可核验的日志：每一步计算指纹（SHA-256），"
        "所有指纹合成为一个值（根），由日志签名，该根记录在{chain}。任何一步哪怕改动一个字符，"
        "根都会不同。完整证据附在本 PDF 内（文件 evidence-bundle.json），本 PDF 经过数字签名，"
        "任何改动都会显现。任何人都可以不依赖出具方自行核验：见最后一节，或扫描上方二维码。",
    ),
    "chain_public": (
        "a public blockchain, where nobody, not even the issuer of this certificate, can "
        "change it afterwards",
        "公共区块链上，此后任何人（包括本证书的出具方）都无法更改",
    ),
    "chain_dev": (
        "a blockchain; here that chain is a local development chain (see the warning below), "
        "which shows how anchoring works but is run by the service itself",
        "区块链上；本证书所用的是本地开发链（见下方警示），它演示锚定的方式，但由服务自身运行",
    ),
    "dev_warning": (
        "Development chain. The anchor of this certificate is on chain {chain_id} ({name}), a "
        "local development chain run by the issuing service itself, not a public blockchain. "
        "It shows how anchoring works; it is no evidence against the issuer. A production "
        "instance anchors on a public chain.",
        "开发链。本证书的锚定位于链 {chain_id}（{name}），这是出具服务自行运行的本地开发链，"
        "不是公共区块链。它只演示锚定的方式，不能作为对抗出具方的证据。生产实例锚定在公共链上。",
    ),
    "label_failed": ("FAILED", "验证失败"),
    "label_pending": ("INCOMPLETE - anchoring pending", "不完整 - 等待上链锚定"),
    "label_incomplete": ("INCOMPLETE", "不完整"),
    "label_verified": ("VERIFIED", "已验证"),
    "verdict_failed": (
        "{failed} of {total} checks failed when this report was issued: {names}. The evidence "
        "below cannot be relied on as it stands; see the checks section.",
        "出具本报告时，{total} 项检查中有 {failed} 项失败：{names}。下列证据目前不可依赖；"
        "见检查一节。",
    ),
    "verdict_pending": (
        "All {made} checks that can be made hold: every record, its hash, its inclusion proof "
        "and the log's signed checkpoint. No on-chain anchor covers these events yet, so for "
        "now the evidence rests on the log's signed checkpoint. Issue a new certificate once "
        "the log is anchored (normally within a minute) to have the chain's confirmation.",
        "可进行的 {made} 项检查全部通过：每条记录、其哈希、其包含证明及日志的签名检查点。"
        "这些事件尚无链上锚定覆盖，目前证据依托于日志的签名检查点。日志锚定后（通常一分钟内）"
        "重新出具证书，即可获得链上确认。",
    ),
    "verdict_incomplete": (
        "All {made} checks that could be made hold, but {unchecked} could not be made when this "
        "report was issued ({why}). Anyone can complete them with the steps at the end of this "
        "report.",
        "可进行的 {made} 项检查全部通过，但出具本报告时有 {unchecked} 项无法进行（{why}）。"
        "任何人都可以按本报告最后的步骤完成这些检查。",
    ),
    "verdict_verified": (
        "All {total} checks hold: every record was recomputed from its content, every proof "
        "leads to the log's signed checkpoint, and the root anchored on chain {chain_id} in "
        "block {block} is the same root.",
        "全部 {total} 项检查通过：每条记录均由其内容重新计算，每个证明都通向日志的签名检查点，"
        "链 {chain_id} 第 {block} 区块中锚定的根与之相同。",
    ),
    "the_contract": ("The contract", "合同"),
    "the_anchor": ("The anchor", "锚定"),
    "verify_online": ("Verify online: {url}", "在线验证：{url}"),
    "subject": ("Subject (contract number)", "主题（合同编号）"),
    "contract_title": ("Title", "标题"),
    "organisation": ("Organisation", "机构"),
    "organisation_value": ("{name} (account {id})", "{name}（账户 {id}）"),
    "steps": ("Steps", "步骤"),
    "steps_value": ("{n} recorded, from {first} to {last}", "共记录 {n} 步，自 {first} 至 {last}"),
    "documents": ("Documents", "文件"),
    "documents_value": (
        "{docs} document{docs_s} in {versions} version{versions_s}",
        "{docs} 份文件，共 {versions} 个版本",
    ),
    "parties": ("Parties", "参与方"),
    "and_more": ("and {n} more", "另有 {n} 项"),
    "chain_id": ("Chain id", "链 ID"),
    "contract": ("Contract", "合约"),
    "transaction": ("Transaction", "交易"),
    "block": ("Block", "区块"),
    "block_time": ("Block time", "区块时间"),
    "anchored_tree": ("Anchored tree", "锚定的树"),
    "anchored_tree_value": ("size {size}, root {root}", "大小 {size}，根 {root}"),
    "log_id": ("Log id", "日志 ID"),
    "status": ("Status", "状态"),
    "status_value": (
        "{status}, {n} confirmations when the bundle was built",
        "{status}，生成证据包时已确认 {n} 次",
    ),
    "anchor": ("Anchor", "锚定"),
    "anchor_pending": (
        "pending: no on-chain anchor covers these events yet",
        "待定：尚无链上锚定覆盖这些事件",
    ),
    "s1": ("1. Documents", "1. 文件"),
    "no_documents": (
        "No document fingerprint was recorded for this subject.",
        "该主题未记录任何文件指纹。",
    ),
    "documents_intro": (
        "The SHA-256 fingerprint of each document at each step. A file whose SHA-256 is one of "
        "these is exactly the document of that step; any other file is not.",
        "每个文件在每一步的 SHA-256 指纹。SHA-256 与其中之一相同的文件，正是该步骤的文件；"
        "其他文件都不是。",
    ),
    "role": ("Role", "角色"),
    "document_sha": ("Document SHA-256", "文件 SHA-256"),
    "step": ("Step", "步骤"),
    "time": ("Time", "时间"),
    "leaf": ("Leaf", "叶"),
    "s2": ("2. Parties", "2. 参与方"),
    "not_recorded": ("not recorded", "未记录"),
    "no_actor": ("No event names an actor.", "没有事件记录操作者。"),
    "identity": ("Identity", "身份"),
    "steps_taken": ("Steps taken", "所做步骤"),
    "authentication": ("Authentication", "身份验证"),
    "ip_addresses": ("IP addresses", "IP 地址"),
    "browsers": ("Browsers", "浏览器"),
    "certificate": ("Certificate", "证书"),
    "other_certificates": ("Other certificates in the evidence", "证据中的其他证书"),
    "cert_missing": ("SHA-256 {sha} (not in the bundle)", "SHA-256 {sha}（不在证据包中）"),
    "cert_subject": ("Subject", "主体"),
    "cert_issuer": ("Issuer", "颁发者"),
    "cert_serial": ("Serial", "序列号"),
    "s3": ("3. Timeline", "3. 时间线"),
    "timeline_intro": (
        "All {n} steps in order. The event hash is the leaf hash SHA-256(0x00 || JCS(record)) "
        "of the exact record in the attached bundle; the leaf is its position in the log.",
        "全部 {n} 个步骤，按顺序排列。事件哈希即附件证据包中该条记录的叶哈希 "
        "SHA-256(0x00 || JCS(record))；叶为其在日志中的位置。",
    ),
    "occurred": ("Time (occurred)", "发生时间"),
    "actor": ("Actor", "操作者"),
    "action": ("Action", "操作"),
    "event_hash": ("Event hash", "事件哈希"),
    "timeline_gap": (
        "… steps #{first} to #{last} ({n} of them) are not printed here: all {total} are in the "
        "attached evidence-bundle.json, each with its record and its proof, and every kind of "
        "step is counted below.",
        "…… 第 {first} 至第 {last} 步（共 {n} 步）未在此列出：全部 {total} 步均在附件 "
        "evidence-bundle.json 中，各附其记录与证明；下方按类型统计了所有步骤。",
    ),
    "by_kind": ("Every step by kind", "按类型统计的全部步骤"),
    "kind": ("Kind of step", "步骤类型"),
    "first": ("First", "最早"),
    "last": ("Last", "最晚"),
    "proofs_gap": (
        "… the proofs of leaves #{first} to #{last} ({n} of them) are in the attached "
        "evidence-bundle.json.",
        "…… 第 {first} 至第 {last} 个叶（共 {n} 个）的证明见附件 evidence-bundle.json。",
    ),
    "s4": ("4. Proofs", "4. 证明"),
    "proofs_intro": (
        "The log is an RFC 9162 Merkle tree. Its state is a checkpoint: tree size and root, "
        "signed by the log's Ed25519 key (C2SP signed note). Each event's inclusion proof leads "
        "from its leaf hash to that root.",
        "日志是一棵 RFC 9162 默克尔树。其状态为检查点：树的大小和根，由日志的 Ed25519 密钥签名"
        "（C2SP 签名注记）。每个事件的包含证明从其叶哈希通向该根。",
    ),
    "log_origin": ("Log origin", "日志来源"),
    "log_key": ("Log public key", "日志公钥"),
    "log_id_chain": ("Log id (on chain)", "日志 ID（链上）"),
    "tree_size": ("Tree size", "树的大小"),
    "root": ("Root", "根"),
    "signed_checkpoint": ("Signed checkpoint", "签名检查点"),
    "consistency": ("Consistency with the anchored tree", "与锚定树的一致性"),
    "consistency_text": (
        "The anchored tree (size {size}) extends the tree above: this consistency proof of "
        "{n} hashes shows the log only grew.",
        "锚定的树（大小 {size}）是上述树的延伸：这份含 {n} 个哈希的一致性证明表明日志只增不减。",
    ),
    "anchored_root": ("Anchored root", "锚定的根"),
    "consistency_proof": ("Consistency proof", "一致性证明"),
    "inclusion": ("Inclusion proofs", "包含证明"),
    "inclusion_intro": (
        "Abbreviated (first 8 hex digits of each hash, leaf to root) against the tree of size "
        "{size}; the full proofs are in the attached evidence-bundle.json.",
        "缩写形式（每个哈希的前 8 位十六进制，自叶至根），针对大小为 {size} 的树；"
        "完整证明见附件 evidence-bundle.json。",
    ),
    "leaf_hash": ("Leaf hash", "叶哈希"),
    "hashes": ("Hashes", "哈希数"),
    "path": ("Path", "路径"),
    "leaf_is_root": ("(the leaf is the root)", "（叶即根）"),
    "checks_made": ("Checks made when this report was issued", "出具本报告时所做的检查"),
    "check": ("Check", "检查"),
    "count": ("Count", "数量"),
    "holds": ("Holds", "通过"),
    "fails": ("Fails", "失败"),
    "not_checked": ("Not checked", "未检查"),
    "detail": ("Detail", "说明"),
    "checks_bad": ("Checks that failed or were not made", "失败或未进行的检查"),
    "state_failed": ("FAILED", "失败"),
    "state_unchecked": ("not checked", "未检查"),
    "s5": ("5. The anchor and how to check it yourself", "5. 锚定及如何自行核验"),
    "step_n": ("Step {n}.", "第 {n} 步。"),
    "how1_head": ("Get the evidence.", "取得证据。"),
    "how1": (
        "It is attached to this PDF as <b>evidence-bundle.json</b> (in a PDF reader: the "
        "attachments or paper-clip panel; or on the command line: {pdfdetach}). The same "
        "bundle is served to the account holder at {bundle_url}.",
        "证据作为 <b>evidence-bundle.json</b> 附在本 PDF 中（在 PDF 阅读器的附件或回形针面板中；"
        "或在命令行：{pdfdetach}）。账户持有人也可在 {bundle_url} 取得同一证据包。",
    ),
    "how2_head": ("Check this PDF's signature.", "核验本 PDF 的签名。"),
    "how2": (
        "Any PDF reader shows it (or {pdfsig}): it is signed by {issuer}, with a time-stamp "
        "and the revocation data inside (PAdES B-LT). Any change to the PDF, its attachment "
        "included, breaks it. The issuing authority's certificates are at {ca_url}.",
        "任何 PDF 阅读器都会显示签名（或使用 {pdfsig}）：签名者为 {issuer}，内含时间戳及吊销数据"
        "（PAdES B-LT）。对 PDF（包括附件）的任何改动都会破坏签名。颁发机构的证书见 {ca_url}。",
    ),
    "how3_head": (
        "Run the open verifier (no account, no service needed).",
        "运行开放的核验程序（无需账户，无需本服务）。",
    ),
    "how3": (
        "{command} (installed by pip from the Sealtrail repository; or python -m "
        "evidence_chain.verify) where URL is any JSON-RPC endpoint of chain {chain_id}. It "
        "checks the signature, extracts the bundle and recomputes every step below; it prints "
        "each check and exits 0 only if all hold ({document_option}: is F in it?). Or open the "
        "attached <b>sealtrail-verifier.html</b> in a browser; drop this PDF in.",
        "{command}（用 pip 从 Sealtrail 代码库安装；或 python -m evidence_chain.verify），"
        "其中 URL 为链 {chain_id} 的任一 JSON-RPC 地址。"
        "它核验签名、提取证据包并重新计算下列每一步；"
        "逐项打印检查结果，全部通过时才以 0 退出（{document_option}：F 是否在其中？）。"
        "也可在浏览器中打开附件 <b>sealtrail-verifier.html</b>，把本 PDF 拖入。",
    ),
    "how4_head": ("Or check by hand: the records.", "或手工核验：记录。"),
    "how4": (
        "For each event in the bundle compute SHA-256(0x00 || JCS(record)) (JCS is RFC 8785) "
        "and compare it with its leaf hash and with the timeline above. Each record's "
        "prev_leaf_hash is the previous record's leaf hash: none is missing or reordered.",
        "对证据包中的每个事件计算 SHA-256(0x00 || JCS(record))（JCS 即 RFC 8785），"
        "并与其叶哈希及上方时间线比对。每条记录的 prev_leaf_hash 是前一条记录的叶哈希："
        "没有缺失，也没有调换顺序。",
    ),
    "how5_head": ("The proofs.", "证明。"),
    "how5": (
        "Verify each inclusion proof from the leaf hash at its leaf index to the checkpoint "
        "root (RFC 9162 section 2.1.3), the consistency proof if there is one (2.1.4), and the "
        "checkpoint's Ed25519 signature with the log key {key}.",
        "按 RFC 9162 第 2.1.3 节核验每个包含证明（自其叶位置的叶哈希至检查点的根），如有一致性证明"
        "则按第 2.1.4 节核验，并用日志密钥 {key} 核验检查点的 Ed25519 签名。",
    ),
    "how6_head": ("The chain.", "区块链。"),
    "how6": (
        "Call rootAt(logId, treeSize) on contract {contract} of chain {chain_id} with logId "
        "{log_id} = SHA-256(log origin) and treeSize {size}, e.g. {cast}. It must return the "
        "anchored root; the transaction and block above show when it was written.",
        "在链 {chain_id} 的合约 {contract} 上调用 rootAt(logId, treeSize)，其中 logId 为 "
        "{log_id} = SHA-256(日志来源)，treeSize 为 {size}，例如 {cast}。返回值必须是锚定的根；"
        "上方的交易和区块表明其写入时间。",
    ),
    "how6_pending": (
        "No anchor yet: once the log is anchored, a new certificate or bundle names the "
        "contract and tree size to read with rootAt(logId, treeSize).",
        "尚未锚定：日志锚定后，新的证书或证据包会写明"
        "要用 rootAt(logId, treeSize) 读取的合约和树的大小。",
    ),
    "how7_head": ("Or online.", "或在线核验。"),
    "how7": (
        "Open {verify_url} (the QR code on the first page) or upload this PDF at {page}.",
        "打开 {verify_url}（首页二维码）或在 {page} 上传本 PDF。",
    ),
    "footer": ("{title} {id} - issued {when}", "{title} {id} - 出具于 {when}"),
    "page_of": ("page {n} of {total}", "第 {n} 页，共 {total} 页"),
    "api_key": ("API key {name}", "API 密钥 {name}"),
    "api_key_prefix": ("API key {prefix}…", "API 密钥 {prefix}…"),
    "one_time_code_by": ("one-time code by {channel}", "通过{channel}发送的一次性验证码"),
    "one_time_code_accepted": ("one-time code accepted", "一次性验证码已通过"),
    "link_opened": ("personal signing link opened", "已打开个人签署链接"),
    "digital_signature": ("digital signature (certificate)", "数字签名（证书）"),
}

_CHANNELS_ZH = {"sms": "短信", "email": "电子邮件"}
_TAG = re.compile(r"(<[^>]+>)")


@dataclass
class Words:
    """The certificate's words in one language, and its times in one zone."""

    lang: str = "en"
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))

    def __post_init__(self) -> None:
        if self.lang not in LANGUAGES:
            self.lang = "en"

    def t(self, key: str, /, **values: Any) -> str:
        """Plain text of ``key`` in the language, with ``values`` filled in."""
        en, zh = TEXT[key]
        return (zh if self.lang == "zh" else en).format(**values)

    def both(self, key: str) -> str:
        """``中文 / English`` markup for a heading of the bilingual first page."""
        return markup(self.both_text(key))

    def both_text(self, key: str) -> str:
        """``中文 / English`` as plain text (a field's name: the table sets it)."""
        en, zh = TEXT[key]
        return f"{zh} / {en}"

    def rich(self, key: str, lang: str | None = None, /, **values: Any) -> str:
        """Paragraph markup of ``key``: values escaped (or given as ``Markup``), Chinese runs in
        the CJK face, the template's own tags kept."""
        en, zh = TEXT[key]
        template = zh if (lang or self.lang) == "zh" else en
        filled = template.format(
            **{k: v if isinstance(v, Markup) else escape(str(v)) for k, v in values.items()}
        )
        return cjk(filled)

    def plural(self, n: int) -> str:
        """The English plural ``s`` (Chinese has none)."""
        return "" if n == 1 else "s"

    def method(self, text: str) -> str:
        """How a party authenticated, in the language (the facts say it in English)."""
        if text.startswith("one-time code by "):
            channel = text.removeprefix("one-time code by ")
            if self.lang == "zh":
                return self.t("one_time_code_by", channel=_CHANNELS_ZH.get(channel, channel))
            return text
        known = {
            "one-time code accepted": "one_time_code_accepted",
            "personal signing link opened": "link_opened",
            "digital signature (certificate)": "digital_signature",
        }
        return self.t(known[text]) if text in known else text

    def when(self, value: Any, *, cell: bool = False) -> str:
        """A record's RFC 3339 UTC time in the zone, UTC beside it (``-`` when absent).

        ``2026-11-21 18:00:00 Asia/Shanghai (10:00:00 UTC)``; in UTC simply
        ``2026-11-21 10:00:00 UTC``. ``cell`` puts the UTC time on a second line.
        """
        moment = parse_time(value)
        if moment is None:
            return "-" if value is None else escape(str(value))
        utc = moment.astimezone(dt.UTC)
        if self.zone.key == "UTC":
            return utc.strftime("%Y-%m-%d %H:%M:%S UTC")
        local = moment.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S")
        sep = "<br/>" if cell else " "
        return f"{local} {escape(self.zone.key)}{sep}({utc.strftime('%H:%M:%S')} UTC)"

    def moment(self, moment: dt.datetime) -> str:
        """A datetime (the report's issue) as :meth:`when` shows times."""
        return self.when(moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))


class Markup(str):
    """A value that is paragraph markup already (not escaped again by :meth:`Words.rich`)."""


def cjk(text: str) -> str:
    """Set the Chinese (non-Latin-1) runs of markup in the CJK face, leaving tags alone."""
    out = []
    for part in _TAG.split(text):
        if part.startswith("<") and part.endswith(">"):
            out.append(part)
            continue
        out.append(_cjk_runs(part))
    return "".join(out)


def _cjk_runs(escaped: str) -> str:
    from itertools import groupby

    from reports.certificate_style import needs_cjk
    from signing.seals import cjk_font

    parts = []
    for is_cjk, run in groupby(escaped, key=needs_cjk):
        chunk = "".join(run)
        parts.append(f'<font name="{cjk_font()}">{chunk}</font>' if is_cjk else chunk)
    return "".join(parts)


def parse_time(value: Any) -> dt.datetime | None:
    """An RFC 3339 time of a record as an aware datetime (None when it is not one)."""
    if not isinstance(value, str) or len(value) < 19:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def development_chain(anchor: Mapping[str, Any] | None) -> str | None:
    """The name of the local development chain an anchor is on, or None."""
    if not anchor:
        return None
    try:
        chain_id = int(anchor.get("chain_id"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return DEVELOPMENT_CHAINS.get(chain_id)
