"""Adapter helpers for the EvidenceAnchor contract: artifact, log id, deployment, revert decoding.

This is the only module of the domain that speaks web3 to the contract directly. It uses the
checked-in artifact (``contracts_sol/build/EvidenceAnchor.json``), never a compiler, so a deployment
is byte-identical to the reviewed build. Transactions are signed locally when a private key or a
local account is given, which works the same against anvil, eth-tester or a remote RPC endpoint.
"""

from __future__ import annotations

import ast
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeAlias, cast

from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils import function_signature_to_4byte_selector
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import ContractLogicError
from web3.types import TxParams, TxReceipt

from evidence_chain.errors import ChainError, ConfigurationError

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACT_PATH = REPO_ROOT / "contracts_sol" / "build" / "EvidenceAnchor.json"

Sender: TypeAlias = LocalAccount | bytes | str
"""A local account, a 32-byte private key (bytes or hex), or a node-managed account's address."""


@cache
def _artifact_text() -> str:
    return ARTIFACT_PATH.read_text(encoding="utf-8")


def load_artifact() -> dict[str, Any]:
    """Return the checked-in EvidenceAnchor artifact (abi, bytecode, compiler, settings)."""
    try:
        artifact: dict[str, Any] = json.loads(_artifact_text())
    except FileNotFoundError as exc:
        raise ConfigurationError(
            "contract artifact missing; run: node contracts_sol/build.mjs",
            details={"path": str(ARTIFACT_PATH)},
        ) from exc
    return artifact


def log_id(origin: str) -> bytes:
    """Return the on-chain log id: SHA-256 of the log's origin string (UTF-8), 32 bytes."""
    return hashlib.sha256(origin.encode("utf-8")).digest()


def contract(w3: Web3, address: str) -> Contract:
    """Return a web3 contract object for an EvidenceAnchor deployed at ``address``."""
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=load_artifact()["abi"])


def _local_account(sender: Sender) -> LocalAccount | None:
    if isinstance(sender, LocalAccount):
        return sender
    if isinstance(sender, bytes | bytearray):
        return Account.from_key(bytes(sender))
    if isinstance(sender, str) and len(sender.removeprefix("0x")) == 64:
        return Account.from_key(sender)
    return None


def sender_address(sender: Sender) -> ChecksumAddress:
    """Return the address that transactions from ``sender`` are sent from."""
    account = _local_account(sender)
    if account is not None:
        return account.address
    if not isinstance(sender, str) or not Web3.is_address(sender):
        raise ConfigurationError("sender is neither a private key nor an address")
    return Web3.to_checksum_address(sender)


def transact(
    w3: Web3,
    sender: Sender,
    call: ContractFunction | ContractConstructor,
    *,
    gas: int | None = None,
    timeout: float = 120.0,
) -> TxReceipt:
    """Send a contract call or constructor from ``sender``, wait for and return its receipt.

    Gas is estimated first, so a call that would revert raises :class:`ContractReverted`, with
    the decoded reason, before anything is sent. A mined transaction that failed anyway raises
    :class:`ChainError`.
    """
    account = _local_account(sender)
    params: TxParams = {"from": sender_address(sender)}
    if gas is not None:
        params["gas"] = gas
    try:
        if account is None:
            tx_hash = call.transact(params)
        else:
            tx = call.build_transaction(params)
            tx["nonce"] = w3.eth.get_transaction_count(account.address, "pending")
            signed = account.sign_transaction(cast("dict[str, Any]", tx))
            tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    except REVERT_EXCEPTIONS as exc:
        raise ContractReverted(decode_anchor_revert(exc)) from exc
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout)
    if receipt["status"] != 1:
        raise ChainError(
            "transaction failed on chain",
            details={"tx_hash": HexBytes(tx_hash).to_0x_hex(), "gas_used": receipt["gasUsed"]},
        )
    return receipt


def deploy(
    w3: Web3, sender: Sender, *, gas: int | None = None, timeout: float = 120.0
) -> ChecksumAddress:
    """Deploy EvidenceAnchor from the checked-in bytecode; ``sender`` is owner and submitter."""
    artifact = load_artifact()
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    receipt = transact(w3, sender, factory.constructor(), gas=gas, timeout=timeout)
    address = receipt["contractAddress"]
    if address is None:
        raise ChainError("deployment receipt carries no contract address")
    return Web3.to_checksum_address(address)


# --- revert decoding --------------------------------------------------------------------------


@dataclass(frozen=True)
class AlreadyAnchored:
    """The tree size is already anchored; ``anchored_root`` is the root the chain holds for it."""

    log_id: bytes
    tree_size: int
    anchored_root: bytes

    def same_root(self, root: bytes) -> bool:
        """Return whether ``root`` is what was anchored: a re-submission that already succeeded."""
        return self.anchored_root == root


@dataclass(frozen=True)
class TreeSizeNotIncreasing:
    """The tree size is not above the latest anchored size of the log."""

    log_id: bytes
    latest_size: int
    tree_size: int


@dataclass(frozen=True)
class NotSubmitter:
    """The caller is not an allowed submitter."""

    caller: ChecksumAddress


@dataclass(frozen=True)
class NotOwner:
    """The caller is not the owner."""

    caller: ChecksumAddress


@dataclass(frozen=True)
class NotPendingOwner:
    """The caller is not the pending owner of a started ownership transfer."""

    caller: ChecksumAddress


@dataclass(frozen=True)
class ZeroAddress:
    """The zero address was given where an account is required."""


@dataclass(frozen=True)
class ZeroRoot:
    """The zero hash was given as a root."""


@dataclass(frozen=True)
class UnknownRevert:
    """Revert data that is not one of EvidenceAnchor's errors (empty, Error(string), Panic...)."""

    data: bytes


AnchorRevert: TypeAlias = (
    AlreadyAnchored
    | TreeSizeNotIncreasing
    | NotSubmitter
    | NotOwner
    | NotPendingOwner
    | ZeroAddress
    | ZeroRoot
    | UnknownRevert
)


RevertSource: TypeAlias = BaseException | bytes | str | dict[str, Any] | None
"""A web3 exception carrying revert data, the data itself (bytes or hex) or a node's error dict."""


class ContractReverted(ChainError):
    """The contract rejected a call; ``revert`` says why (for example :class:`AlreadyAnchored`)."""

    code = "chain_rejected"

    def __init__(self, revert: AnchorRevert) -> None:
        super().__init__(
            f"contract reverted: {type(revert).__name__}", details={"revert": repr(revert)}
        )
        self.revert = revert


def _revert_exception_types() -> tuple[type[BaseException], ...]:
    # eth-tester's provider raises its own TransactionFailed instead of ContractLogicError.
    try:
        from eth_tester.exceptions import TransactionFailed
    except ImportError:
        return (ContractLogicError,)
    return (ContractLogicError, TransactionFailed)


REVERT_EXCEPTIONS: tuple[type[BaseException], ...] = _revert_exception_types()
"""Exceptions that web3 providers raise for a reverted call or gas estimate."""


def _selector(signature: str) -> bytes:
    return bytes(function_signature_to_4byte_selector(signature))


_ERRORS: dict[bytes, tuple[list[str], Callable[[tuple[Any, ...]], AnchorRevert]]] = {
    _selector("EvidenceAnchor__AlreadyAnchored(bytes32,uint64,bytes32)"): (
        ["bytes32", "uint64", "bytes32"],
        lambda v: AlreadyAnchored(log_id=v[0], tree_size=v[1], anchored_root=v[2]),
    ),
    _selector("EvidenceAnchor__TreeSizeNotIncreasing(bytes32,uint64,uint64)"): (
        ["bytes32", "uint64", "uint64"],
        lambda v: TreeSizeNotIncreasing(log_id=v[0], latest_size=v[1], tree_size=v[2]),
    ),
    _selector("EvidenceAnchor__NotSubmitter(address)"): (
        ["address"],
        lambda v: NotSubmitter(caller=Web3.to_checksum_address(v[0])),
    ),
    _selector("EvidenceAnchor__NotOwner(address)"): (
        ["address"],
        lambda v: NotOwner(caller=Web3.to_checksum_address(v[0])),
    ),
    _selector("EvidenceAnchor__NotPendingOwner(address)"): (
        ["address"],
        lambda v: NotPendingOwner(caller=Web3.to_checksum_address(v[0])),
    ),
    _selector("EvidenceAnchor__ZeroAddress()"): ([], lambda v: ZeroAddress()),
    _selector("EvidenceAnchor__ZeroRoot()"): ([], lambda v: ZeroRoot()),
}


_REVERTED_PREFIX = "execution reverted: "


def _exception_bytes(exc: BaseException) -> bytes:
    """Extract revert data from web3's ContractLogicError or eth-tester's TransactionFailed."""
    data = getattr(exc, "data", None)
    if data is not None:
        return _revert_bytes(data)
    # web3's eth-tester provider re-raises TransactionFailed with the data's repr in the message:
    # "execution reverted: b'...'"; a bytes literal is safe to evaluate.
    for arg in exc.args:
        if isinstance(arg, bytes | bytearray):
            return bytes(arg)
        if isinstance(arg, str):
            literal = arg.removeprefix(_REVERTED_PREFIX)
            if literal[:2] in ("b'", 'b"'):
                try:
                    value = ast.literal_eval(literal)
                except (ValueError, SyntaxError):
                    return b""
                return value if isinstance(value, bytes) else b""
    return b""


def _revert_bytes(revert: RevertSource) -> bytes:
    """Extract raw revert data from an exception, a hex string, a node's error dict or bytes."""
    if isinstance(revert, BaseException):
        return _exception_bytes(revert)
    if isinstance(revert, dict):
        revert = revert.get("data")
    if revert is None:
        return b""
    if isinstance(revert, bytes | bytearray):
        return bytes(revert)
    # Some nodes prefix the data ("Reverted 0x..."); the hex payload is the last word.
    text = revert.strip().split(" ")[-1]
    try:
        return bytes(HexBytes(text))
    except ValueError:
        return b""


def decode_anchor_revert(revert: RevertSource) -> AnchorRevert:
    """Decode EvidenceAnchor revert data (or the web3 exception carrying it) into a typed result."""
    data = _revert_bytes(revert)
    known = _ERRORS.get(data[:4])
    if known is None:
        return UnknownRevert(data=data)
    types, build = known
    try:
        values = abi_decode(types, data[4:]) if types else ()
    except DecodingError:  # a known selector with a malformed payload
        return UnknownRevert(data=data)
    return build(values)
