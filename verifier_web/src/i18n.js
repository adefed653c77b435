// Every string the verifier shows, in English and Chinese. A message is a text with {name}
// placeholders filled from a check's parameters.

export const LANGUAGES = ["en", "zh"];

const M = {
  // ------------------------------------------------------------------ the page
  "page.title": ["Sealtrail evidence verifier", "Sealtrail 证据验证器"],
  "page.lede": [
    "Checks a certificate of evidence (PDF) or an evidence bundle (JSON) on this computer, with no trust in Sealtrail: every record, proof, signature and the anchor on the blockchain are recomputed here.",
    "在本机核验证据证书（PDF）或证据包（JSON），无需信任 Sealtrail：每条记录、每个证明、每个签名以及区块链上的锚定均在此重新计算。",
  ],
  "page.network": [
    "Privacy: this page never sends your file anywhere. Its only network use is JSON-RPC calls (eth_chainId, eth_getCode, eth_call, eth_getTransactionReceipt, eth_getBlockByNumber) to the RPC URL you type below, to read the anchor from the chain. Without an RPC URL it makes no network call at all.",
    "隐私：本页面绝不会把您的文件发送到任何地方。它唯一的网络用途，是向您在下方填写的 RPC 地址发送 JSON-RPC 调用（eth_chainId、eth_getCode、eth_call、eth_getTransactionReceipt、eth_getBlockByNumber），以从区块链读取锚定。不填写 RPC 地址时，它不进行任何网络通信。",
  ],
  "page.file": ["Certificate of evidence (PDF) or evidence bundle (JSON)", "证据证书（PDF）或证据包（JSON）"],
  "page.drop": ["Drop the file here, or choose it:", "将文件拖放到此处，或选择文件："],
  "page.document": ["A document to look for in the evidence (optional)", "要在证据中查找的文件（可选）"],
  "page.rpc": ["JSON-RPC URL of the anchor's blockchain (optional)", "锚定所在区块链的 JSON-RPC 地址（可选）"],
  "page.rpc_hint": [
    "Any node or public endpoint of the chain named in the evidence, e.g. https://ethereum-sepolia-rpc.publicnode.com. Without it the chain checks are not made and the verdict is at best INCOMPLETE.",
    "证据所指区块链的任一节点或公共端点，例如 https://ethereum-sepolia-rpc.publicnode.com。不填写时不进行链上核验，结论最多为“不完整”（INCOMPLETE）。",
  ],
  "page.verify": ["Verify", "验证"],
  "page.working": ["Verifying…", "正在验证…"],
  "page.language": ["中文", "English"],
  "page.language_label": ["Language", "语言"],
  "page.checks": ["Checks", "核验项目"],
  "page.col_result": ["Result", "结果"],
  "page.col_check": ["Check", "项目"],
  "page.col_detail": ["Detail", "说明"],
  "page.output": ["The same result as the command prints it", "与命令行输出格式相同的结果"],
  "page.about": [
    "Sealtrail verifier for evidence bundle format v{format} (build {built}). Ed25519 signatures are checked by {ed25519}. The rules are in docs/evidence-bundle.md of the Sealtrail repository; the command `sealtrail-verify` / `python -m evidence_chain.verify` applies the same checks under the same names.",
    "Sealtrail 验证器，适用于证据包格式 v{format}（构建 {built}）。Ed25519 签名由 {ed25519} 核验。规则见 Sealtrail 代码库的 docs/evidence-bundle.md；命令行 `sealtrail-verify` / `python -m evidence_chain.verify` 以相同名称执行相同核验。",
  ],
  "page.subject": ["Subject", "主体"],
  "page.tenant": ["Tenant", "租户"],
  "page.events": ["Records", "记录数"],
  "page.anchor": ["Anchor", "锚定"],
  "page.anchor_value": ["chain {chain}, block {block}, {time}, transaction {tx}", "链 {chain}，区块 {block}，{time}，交易 {tx}"],
  "page.not_anchored": ["not yet anchored", "尚未锚定"],
  "page.file_name": ["File", "文件"],
  "page.lifecycle": ["Status", "状态"],
  "verdict.VERIFIED": ["VERIFIED", "验证通过"],
  "verdict.FAILED": ["FAILED", "验证失败"],
  "verdict.INCOMPLETE": ["INCOMPLETE", "不完整"],
  "verdict.VERIFIED.text": [
    "Every check held: the evidence is intact, in the log the anchor on chain commits to.",
    "所有核验均通过：证据完整，且位于链上锚定所承诺的日志中。",
  ],
  "verdict.FAILED.text": ["At least one check failed: do not rely on this evidence. Failed: {failed}", "至少一项核验失败：请勿采信此证据。失败项：{failed}"],
  "verdict.INCOMPLETE.text": ["Nothing failed, but something was not checked: {unchecked}", "没有失败项，但有项目未核验：{unchecked}"],
  "verdict.report_hint": [
    "This page does not check the certificate's own PDF signature: open the PDF's signature panel in a PDF reader, or run the command, for that. Everything the evidence rests on is checked here.",
    "本页面不核验证书本身的 PDF 签名：请在 PDF 阅读器的签名面板中查看，或运行命令行验证器。证据所依据的一切均在此核验。",
  ],
  "summary": ["{verdict}: {kind}, {total} checks: {held} held, {failed} failed, {unchecked} not checked", "{verdict}：{kind}，{total} 项核验：{held} 项通过，{failed} 项失败，{unchecked} 项未核验"],
  "summary.failed": ["failed: {names}", "失败：{names}"],
  "kind.bundle": ["bundle", "证据包"],
  "kind.report": ["report", "证据证书"],
  "kind.contract": ["contract", "签署合同"],
  "mark.true": ["held", "通过"],
  "mark.false": ["failed", "失败"],
  "mark.null": ["not checked", "未核验"],
  "error.title": ["This file cannot be verified", "无法验证此文件"],
  "error.read": ["The file cannot be read: {error}", "无法读取文件：{error}"],
  "error.no_file": ["Choose or drop a file first.", "请先选择或拖放文件。"],
  "error.rpc_url": ["The RPC URL must start with http:// or https://.", "RPC 地址必须以 http:// 或 https:// 开头。"],

  // ------------------------------------------------------------------ files
  "file.too_big": ["the file is {size} bytes, over the limit of {limit}", "文件为 {size} 字节，超过 {limit} 字节的上限"],
  "file.not_utf8": ["not an evidence bundle: the text is not UTF-8", "不是证据包：文本不是 UTF-8 编码"],
  "file.no_format": ["not an evidence bundle: no \"format\": \"{format}\"", "不是证据包：没有 \"format\": \"{format}\""],
  "file.not_bundle": ["neither a PDF nor an evidence bundle: {reason}", "既不是 PDF 也不是证据包：{reason}"],
  "file.pdf_unreadable": ["the PDF cannot be read ({reason})", "无法读取此 PDF（{reason}）"],
  "report.signature_not_checked": [
    "not checked by this page: the certificate's PDF signature is checked by a PDF reader's signature panel or by the command; the evidence it carries is checked below",
    "本页面不核验：证书的 PDF 签名请用 PDF 阅读器的签名面板或命令行验证器核验；证书所附证据在下方核验",
  ],
  "report.no_attachment": ["no embedded {name}: this PDF is not a certificate of evidence", "未嵌入 {name}：此 PDF 不是证据证书"],
  "contract.signatures_not_checked": [
    "not checked by this page: a signed contract's PDF signatures are checked by a PDF reader's signature panel or by the command (sealtrail-verify)",
    "本页面不核验：签署合同的 PDF 签名请用 PDF 阅读器的签名面板或命令行验证器（sealtrail-verify）核验",
  ],
  "contract.no_signature": [
    "the file carries no signature: it is neither a signed contract nor a certificate of evidence",
    "此文件没有签名：既不是签署合同也不是证据证书",
  ],
  "contract.needs_evidence": [
    "whether this exact file was recorded in the evidence log needs its certificate of evidence or bundle: drop that here, and choose this contract as the document to look for",
    "此文件是否确已记录在证据日志中，需要其证据证书或证据包：请将其拖放到此处，并把本合同选为要查找的文件",
  ],
  "ok.attachment": ["{name}, {size} bytes, SHA-256 {sha256}", "{name}，{size} 字节，SHA-256 {sha256}"],

  // ------------------------------------------------------------------ fields
  "field.not_object": ["{where} is not an object", "{where} 不是对象"],
  "field.missing": ["{field} is missing", "缺少 {field}"],
  "field.type": ["{field} has the wrong type", "{field} 类型错误"],
  "field.range": ["{field} is out of range", "{field} 超出范围"],
  "field.not_hex": ["{field} is not a hex string", "{field} 不是十六进制字符串"],
  "field.not_hash": ["{field} is not a 32-byte hex hash", "{field} 不是 32 字节的十六进制哈希"],
  "field.not_list": ["{field} is not a list", "{field} 不是列表"],
  "field.not_time": ["{field} is not an RFC 3339 time", "{field} 不是 RFC 3339 时间"],
  malformed: ["malformed: {error}", "格式错误：{error}"],

  // ------------------------------------------------------------------ format and log
  "format.not_object": ["the bundle is not a JSON object", "证据包不是 JSON 对象"],
  "format.format": ["format is {format}, not sealtrail-evidence-bundle", "format 为 {format}，而不是 sealtrail-evidence-bundle"],
  "format.version": ["version {version} is not supported (this verifier reads version 1)", "不支持版本 {version}（本验证器读取版本 1）"],
  "ok.format": ["{format} v{version} for subject '{subject}'", "{format} v{version}，主体 '{subject}'"],
  "log.key_too_long": ["log.verifier_key is too long", "log.verifier_key 过长"],
  "log.key_name": ["the verifier key is named '{name}', not the log origin '{origin}'", "验证公钥名为 '{name}'，而非日志来源 '{origin}'"],
  "ok.verifier_key": ["Ed25519 key of log '{origin}'", "日志 '{origin}' 的 Ed25519 公钥"],
  "log.log_id": ["log_id {stated} is not SHA-256(origin) = {expected}", "log_id {stated} 不等于 SHA-256(origin) = {expected}"],
  "ok.log_id": ["SHA-256('{origin}') = {log_id}", "日志 ID：SHA-256('{origin}') = {log_id}"],

  // ------------------------------------------------------------------ notes
  "note.vkey_format": ["the verifier key is not <name>+<hex key id>+<base64 key>", "验证公钥不是 <名称>+<十六进制密钥 ID>+<base64 公钥> 格式"],
  "note.vkey_not_ed25519": ["the verifier key is not an Ed25519 note key", "验证公钥不是 Ed25519 签名笔记公钥"],
  "note.vkey_id": ["the verifier key's id does not match its name and key", "验证公钥的 ID 与其名称和公钥不符"],
  "note.unicode": ["the note is not valid Unicode text", "签名笔记不是有效的 Unicode 文本"],
  "note.control": ["the note holds a control character", "签名笔记含有控制字符"],
  "note.no_blank_line": ["the note has no blank line before its signatures", "签名笔记在签名前没有空行"],
  "note.no_signatures": ["the note has no signature lines ending in a newline", "签名笔记没有以换行结尾的签名行"],
  "note.too_many": ["the note has too many signatures", "签名笔记的签名过多"],
  "note.bad_line": ["a signature line is malformed", "签名行格式错误"],
  "note.unsigned": ["the note carries no signature of {name}", "签名笔记没有 {name} 的签名"],
  "note.twice": ["the note carries {count} signatures of {name}", "签名笔记含有 {name} 的 {count} 个签名"],
  "note.bad_signature": ["the Ed25519 signature does not verify", "Ed25519 签名验证失败"],
  "note.cp_lines": ["the checkpoint body has fewer than three lines", "检查点正文少于三行"],
  "note.cp_origin_empty": ["the checkpoint's origin is empty", "检查点来源为空"],
  "note.cp_size": ["the checkpoint's tree size is not a decimal uint64", "检查点的树大小不是十进制 uint64"],
  "note.cp_root": ["the checkpoint's root is not a base64 SHA-256 hash", "检查点的根不是 base64 编码的 SHA-256 哈希"],
  "note.cp_extension": ["a checkpoint extension line is empty", "检查点扩展行为空"],
  "note.cp_origin": ["the checkpoint is of '{origin}', not '{expected}'", "检查点属于 '{origin}'，而不是 '{expected}'"],
  "checkpoint.note_long": ["{where}.note is too long", "{where}.note 过长"],
  "checkpoint.no_key": ["cannot check the signature without a valid log key", "没有有效的日志公钥，无法核验签名"],
  "checkpoint.size": ["the signed note says tree size {signed}, the bundle {stated}", "签名笔记中的树大小为 {signed}，证据包中为 {stated}"],
  "checkpoint.root": ["the signed note's root {signed} differs from {stated}", "签名笔记中的根 {signed} 与 {stated} 不同"],
  "ok.checkpoint": ["signed by {origin}: tree size {size}, root {root}", "由 {origin} 签名：树大小 {size}，根 {root}"],

  // ------------------------------------------------------------------ records and proofs
  "events.empty": ["events is not a non-empty list", "events 不是非空列表"],
  "events.too_many": ["{count} events is over the limit of {limit}", "{count} 条事件超过 {limit} 条的上限"],
  "ok.events": ["{count} events", "{count} 条事件"],
  "record.leaf_hash": ["the record hashes to {computed}, the bundle says {stated}", "记录的哈希为 {computed}，证据包中为 {stated}"],
  "record.event_id": ["the record's event_id differs from the event's", "记录的 event_id 与事件的不同"],
  "ok.leaf_hash": ["leaf {index}: SHA-256(0x00 || JCS(record)) = {hash}", "叶子 {index}：SHA-256(0x00 || JCS(记录)) = {hash}"],
  "chain.subject": ["the record is of subject {found}, not '{subject}'", "记录属于主体 {found}，而不是 '{subject}'"],
  "chain.tenant": ["the record is of tenant {found}, not '{tenant}'", "记录属于租户 {found}，而不是 '{tenant}'"],
  "chain.seq": ["subject_seq is {seq}, expected {expected}", "subject_seq 为 {seq}，应为 {expected}"],
  "chain.order": ["leaf index {index} is not after the previous record's {last}", "叶子序号 {index} 不在上一条记录的 {last} 之后"],
  "chain.no_previous": ["the previous record's leaf hash could not be computed", "无法计算上一条记录的叶子哈希"],
  "chain.prev": ["prev_leaf_hash is {found}, expected {expected}", "prev_leaf_hash 为 {found}，应为 {expected}"],
  "ok.chain_first": ["first record of the subject", "主体的第一条记录"],
  "ok.chain_next": ["follows record[{previous}]", "接续 record[{previous}]"],
  "inclusion.no_leaf": ["no leaf hash: the record could not be hashed", "没有叶子哈希：无法计算记录的哈希"],
  "inclusion.no_checkpoint": ["no valid checkpoint to prove against", "没有可供证明的有效检查点"],
  "ok.inclusion": ["leaf {index} is in the tree of size {size}", "叶子 {index} 在大小为 {size} 的树中"],
  "proof.too_many": ["{field} has {count} hashes, more than any proof can have", "{field} 含 {count} 个哈希，超过任何证明可能的长度"],
  "proof.index": ["leaf index {index} is not below the tree size {size}", "叶子序号 {index} 不小于树大小 {size}"],
  "proof.too_long": ["the proof is longer than the tree allows", "证明长度超过树所允许的长度"],
  "proof.too_short": ["the proof is shorter than the tree needs", "证明长度短于树所需的长度"],
  "proof.root": ["the proof leads to another root (expected {expected}, calculated {calculated})", "证明得出另一个根（应为 {expected}，计算得 {calculated}）"],
  "proof.sizes": ["tree size {size1} cannot be a prefix of tree size {size2}", "树大小 {size1} 不可能是树大小 {size2} 的前缀"],
  "proof.equal_not_empty": ["a proof between equal trees must be empty", "相同大小的树之间的证明必须为空"],
  "proof.empty": ["the consistency proof is empty", "一致性证明为空"],

  // ------------------------------------------------------------------ documents and certificates
  "documents.differ": ["the documents list differs from the documents named by the records", "文件列表与记录中所列文件不一致"],
  "ok.documents": ["{count} document hashes, each from its record", "{count} 个文件哈希，均来自其记录"],
  "certificates.count": ["{listed} certificates listed, the records name {named}", "列出 {listed} 个证书，记录中为 {named} 个"],
  "certificates.unnamed": ["{where} ({sha256}) is not named by any record", "{where}（{sha256}）未被任何记录提及"],
  "certificates.field": ["{field} differs from the record's", "{field} 与记录中的不同"],
  "certificates.pem": ["{where}.pem is not a PEM certificate", "{where}.pem 不是 PEM 证书"],
  "certificates.fingerprint": ["{where}.pem has SHA-256 {fingerprint}, the record names {sha256}", "{where}.pem 的 SHA-256 为 {fingerprint}，记录中为 {sha256}"],
  "ok.certificates": ["{count} certificates, each named by a record and matching its SHA-256", "{count} 个证书，均由记录提及且与其 SHA-256 相符"],
  "document.no_records": ["the bundle's records could not be read", "无法读取证据包的记录"],
  "document.absent": ["SHA-256 {sha256} is not a document of this bundle", "SHA-256 {sha256} 不是此证据包中的文件"],
  "ok.document": ["SHA-256 {sha256}: {where}", "SHA-256 {sha256}：{where}"],
  "ok.document_hit": ["{role}{name} at leaf {leaf} (event {event})", "{role}{name}，叶子 {leaf}（事件 {event}）"],

  // ------------------------------------------------------------------ the anchor
  "anchor.not_anchored": ["not yet anchored: the checkpoint is the service's signed promise", "尚未锚定：检查点仅为服务方的签名承诺"],
  "anchor.contract": ["anchor.contract is not a 0x-prefixed 20-byte address", "anchor.contract 不是以 0x 开头的 20 字节地址"],
  "anchor.no_log": ["no valid log to compare the anchor's log id with", "没有可与锚定日志 ID 比较的有效日志"],
  "anchor.log_id": ["anchor.log_id {stated} is not this log's {expected}", "anchor.log_id {stated} 不是本日志的 {expected}"],
  "ok.anchor_fields": ["chain {chain}, contract {contract}, tree size {size}", "链 {chain}，合约 {contract}，树大小 {size}"],
  "anchor.no_checkpoint": ["no valid checkpoint", "没有有效的检查点"],
  "anchor.stray_proof": ["a consistency proof without an anchor checkpoint", "有一致性证明但没有锚定检查点"],
  "anchor.unbridged": ["the anchor is at tree size {anchored}, the checkpoint at {size}, and no anchor checkpoint bridges them", "锚定的树大小为 {anchored}，检查点为 {size}，且没有锚定检查点将二者衔接"],
  "ok.anchor_checkpoint": ["the anchor is of the checkpoint itself (tree size {size})", "锚定的正是该检查点（树大小 {size}）"],
  "ok.consistency": ["tree size {size2} extends tree size {size1}", "树大小 {size2} 是树大小 {size1} 的延伸"],
  "anchor.no_anchored_checkpoint": ["no anchored checkpoint", "没有已锚定的检查点"],
  "anchor.root": ["anchor (size {size}, root {root}) is not the anchored checkpoint (size {cpSize}, root {cpRoot})", "锚定（大小 {size}，根 {root}）与已锚定检查点（大小 {cpSize}，根 {cpRoot}）不符"],
  "ok.anchor_root": ["root {root} at tree size {size}", "树大小 {size} 时的根为 {root}"],

  // ------------------------------------------------------------------ the chain
  "chain.no_rpc": ["not checked: no RPC URL given", "未核验：未提供 RPC 地址"],
  "chain.unreachable": ["not checked: {url} cannot be reached ({error})", "未核验：无法连接 {url}（{error}）"],
  "chain.rpc_error": ["not checked: {url} answered {method} with an error ({error})", "未核验：{url} 对 {method} 返回错误（{error}）"],
  "chain.wrong_chain": ["the RPC endpoint serves chain {served}, the anchor is on chain {chain}", "该 RPC 端点属于链 {served}，而锚定在链 {chain} 上"],
  "chain.no_contract": ["there is no contract at {contract} on chain {chain}", "链 {chain} 上地址 {contract} 处没有合约"],
  "chain.no_root": ["contract {contract} on chain {chain} holds no root at tree size {size}", "链 {chain} 上的合约 {contract} 在树大小 {size} 处没有根"],
  "chain.root_differs": ["rootAt(log, {size}) on chain {chain} is {found}, the bundle's anchor root is {root}", "链 {chain} 上 rootAt(log, {size}) 为 {found}，证据包的锚定根为 {root}"],
  "ok.root_on_chain": ["rootAt(log, {size}) on chain {chain} at {contract} = {root}", "链 {chain} 上合约 {contract} 的 rootAt(log, {size}) = {root}"],
  "chain.no_receipt": ["transaction {tx} is not on chain {chain}", "链 {chain} 上没有交易 {tx}"],
  "chain.tx_failed": ["transaction {tx} did not succeed", "交易 {tx} 未成功执行"],
  "chain.no_log": ["transaction {tx} has no CheckpointAnchored log of contract {contract} for this log at tree size {size} with this root", "交易 {tx} 中没有合约 {contract} 为本日志在树大小 {size} 处以此根发出的 CheckpointAnchored 日志"],
  "ok.transaction": ["transaction {tx} succeeded and logged CheckpointAnchored(log, {size}, root) from {contract}", "交易 {tx} 执行成功，并由 {contract} 记录了 CheckpointAnchored(log, {size}, root)"],
  "chain.block_number": ["the transaction is in block {mined}, the bundle says {number}", "交易位于区块 {mined}，证据包中为 {number}"],
  "ok.block_number": ["the transaction is in block {number}", "交易位于区块 {number}"],
  "chain.no_block": ["there is no block {number} on chain {chain}", "链 {chain} 上没有区块 {number}"],
  "chain.receipt_block_hash": ["the transaction's block hash is {found}, the bundle says {stated}", "交易所在区块的哈希为 {found}，证据包中为 {stated}"],
  "chain.block_hash": ["block {number} has hash {found}, the bundle says {stated}", "区块 {number} 的哈希为 {found}，证据包中为 {stated}"],
  "ok.block_hash": ["block {number} has hash {hash}", "区块 {number} 的哈希为 {hash}"],
  "chain.block_time": ["the block's time is {found}, the bundle says {stated}", "区块时间为 {found}，证据包中为 {stated}"],
  "ok.block_time": ["block {number} was made at {time}", "区块 {number} 产生于 {time}"],

  // ------------------------------------------------------------------ JSON, JCS and PDF
  "json.not_value": ["not JSON: no value at line {line} column {column}", "不是 JSON：第 {line} 行第 {column} 列没有值"],
  "json.number_range": ["number {literal} is out of the double range (line {line})", "数字 {literal} 超出双精度范围（第 {line} 行）"],
  "json.big_integer": ["integer {literal} is not exactly a double: send it as a string (line {line})", "整数 {literal} 无法精确表示为双精度数：请以字符串发送（第 {line} 行）"],
  "json.unterminated": ["an unterminated string at line {line}", "第 {line} 行字符串未结束"],
  "json.control": ["a control character in a string at line {line} column {column}", "第 {line} 行第 {column} 列的字符串中有控制字符"],
  "json.escape": ["an invalid escape at line {line} column {column}", "第 {line} 行第 {column} 列转义无效"],
  "json.deep": ["JSON nested more than {limit} levels deep", "JSON 嵌套超过 {limit} 层"],
  "json.key": ["expected a string key at line {line} column {column}", "第 {line} 行第 {column} 列应为字符串键"],
  "json.duplicate": ["duplicate object key '{key}' at line {line}", "第 {line} 行对象键 '{key}' 重复"],
  "json.colon": ["expected ':' at line {line} column {column}", "第 {line} 行第 {column} 列应为 ':'"],
  "json.object": ["expected ',' or '}' at line {line} column {column}", "第 {line} 行第 {column} 列应为 ',' 或 '}'"],
  "json.array": ["expected ',' or ']' at line {line} column {column}", "第 {line} 行第 {column} 列应为 ',' 或 ']'"],
  "json.extra": ["extra data after the JSON value at line {line} column {column}", "第 {line} 行第 {column} 列 JSON 值后有多余数据"],
  "jcs.number": ["{value} is not a JSON number", "{value} 不是 JSON 数字"],
  "jcs.surrogate": ["a string holds a lone surrogate, which is not valid Unicode text", "字符串含有孤立代理项，不是有效的 Unicode 文本"],
  "jcs.deep": ["nested too deep", "嵌套过深"],
  "jcs.type": ["{type} is not a JSON value", "{type} 不是 JSON 值"],
  "pdf.deep": ["objects nested too deep", "对象嵌套过深"],
  "pdf.truncated": ["the file ends too early", "文件提前结束"],
  "pdf.syntax": ["a syntax error", "语法错误"],
  "pdf.inflate": ["the embedded bundle cannot be inflated", "无法解压嵌入的证据包"],
  "pdf.too_big": ["the embedded bundle is over {limit} bytes", "嵌入的证据包超过 {limit} 字节"],
  "pdf.predictor": ["an unsupported predictor", "不支持的预测器"],
  "pdf.no_xref": ["no cross-reference table", "没有交叉引用表"],
  "pdf.bad_xref": ["a damaged cross-reference table", "交叉引用表已损坏"],
  "pdf.no_root": ["no document catalog", "没有文档目录"],
  "pdf.bad_object": ["a damaged object", "对象已损坏"],
  "pdf.ref_loop": ["references that loop", "循环引用"],
  "pdf.filter": ["the embedded bundle uses unsupported filters {filters}", "嵌入的证据包使用了不支持的过滤器 {filters}"],
  "pdf.tree_deep": ["the PDF's embedded files tree is too deep", "PDF 的嵌入文件树过深"],
  "pdf.bad_attachment": ["the embedded bundle's file specification is damaged", "嵌入证据包的文件说明已损坏"],
};

const ROLE = {
  original: ["original", "原件"],
  signed: ["signed", "已签署"],
  before: ["before", "签署前"],
  "time-stamped": ["time-stamped", "已加盖时间戳"],
  final: ["final", "最终版"],
  void: ["void", "作废"],
  document: ["document", "文件"],
};

/** The keys of every message (tests check each exists in both languages). */
export const MESSAGE_KEYS = Object.keys(M);

/** The language to start in: Chinese if the browser prefers it, English otherwise. */
export function defaultLanguage(preferred) {
  for (const tag of preferred ?? []) {
    const l = String(tag).toLowerCase();
    if (l.startsWith("zh")) return "zh";
    if (l.startsWith("en")) return "en";
  }
  return "en";
}

/** The text of message `key` in `lang`, with {placeholders} filled from `params`. */
export function t(lang, key, params = {}) {
  const entry = M[key];
  if (entry === undefined) return key;
  const text = entry[lang === "zh" ? 1 : 0];
  return text.replace(/\{(\w+)\}/g, (whole, name) => {
    if (!(name in params)) return whole;
    if (name === "reason" && typeof params.reason === "string" && params.reason in M) return t(lang, params.reason, params.params ?? params);
    return String(params[name]);
  });
}

/** A check's detail in `lang`. */
export function detailText(lang, d) {
  if (d.key === "ok.document") {
    const where = d.params.hits
      .map((h) =>
        t(lang, "ok.document_hit", {
          role: ROLE[h.role] ? ROLE[h.role][lang === "zh" ? 1 : 0] : h.role,
          name: h.name ? ` '${h.name}'` : "",
          leaf: h.leaf_index,
          event: h.event_id,
        }),
      )
      .join(lang === "zh" ? "；" : "; ");
    return t(lang, d.key, { sha256: d.params.sha256, where });
  }
  if (d.key === "ok.events" && d.params.count === 1 && lang === "en") return "1 event";
  if (d.key === "ok.certificates" && d.params.count === 1 && lang === "en") return "1 certificate, named by a record and matching its SHA-256";
  return t(lang, d.key, d.params);
}
