"""The chain behind one small interface: what anchoring needs from an Ethereum-compatible node.

:class:`AnchorChain` is all the domain sees. :class:`Web3Chain` is the real implementation; it
talks JSON-RPC to a node (``Web3Chain.http``) or runs an in-process py-evm chain
(``Web3Chain.in_process``, the same code on eth-tester). :class:`SwitchableChain` is the test
double for outages: switched down, every call raises :class:`ChainError`. Every web3, requests
or node error is wrapped into :class:`ChainError` here, at the edge.
"""

from __future__ import annotations

import functools
import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar, cast
from urllib.parse import urlsplit

from eth_account import Account
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TransactionNotFound

from evidence_chain.anchoring.contract import (
    REVERT_EXCEPTIONS,
    ContractReverted,
    decode_anchor_revert,
)
from evidence_chain.anchoring.contract import contract as contract_at
from evidence_chain.core.onchain import ChainBlock, ChainLog, ChainReceipt
from evidence_chain.errors import ChainError, ConfigurationError, EvidenceError

ZERO32 = b"\x00" * 32
P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True)
class Block:
    """A block header as far as anchoring cares: height, hash and time (unix seconds)."""

    number: int
    hash: bytes
    timestamp: int


@dataclass(frozen=True)
class Fees:
    """EIP-1559 fee inputs, in wei per gas: the latest base fee and a suggested priority fee."""

    base_fee: int
    priority_fee: int


@dataclass(frozen=True)
class Receipt:
    """A mined transaction: success flag, block, gas used and the logs it emitted."""

    tx_hash: bytes
    success: bool
    block_number: int
    block_hash: bytes
    gas_used: int
    logs: tuple[ChainLog, ...] = ()


@dataclass(frozen=True)
class AnchorLog:
    """A CheckpointAnchored event found on chain."""

    tx_hash: bytes
    block_number: int
    block_hash: bytes
    tree_size: int
    root: bytes


@dataclass(frozen=True)
class SignedTx:
    """A locally signed transaction: the raw bytes to broadcast and their hash."""

    raw: bytes
    tx_hash: bytes


class Signer:
    """The submitter key; transactions are always signed locally, never by the node."""

    def __init__(self, account: LocalAccount, *, development_key: bool = False) -> None:
        self._account = account
        self.development_key = development_key

    @property
    def address(self) -> str:
        """The checksummed address transactions are sent from."""
        return str(self._account.address)

    @property
    def key(self) -> bytes:
        """The private key (for deployment through the contract adapter)."""
        return bytes(self._account.key)

    def sign(self, tx: dict[str, Any]) -> SignedTx:
        """Sign a transaction dict (EIP-1559 fields)."""
        signed = self._account.sign_transaction(tx)
        return SignedTx(raw=bytes(signed.raw_transaction), tx_hash=bytes(signed.hash))

    @classmethod
    def from_hex(cls, key: str, *, development_key: bool = False) -> Signer:
        """A signer from a hex private key."""
        try:
            account: LocalAccount = Account.from_key(key)
        except Exception as exc:
            raise ConfigurationError("the anchor key is not a valid private key") from exc
        return cls(account, development_key=development_key)

    @classmethod
    def from_keystore(cls, path: Path, password: str) -> Signer:
        """A signer from an encrypted (Web3 secret storage) keystore file."""
        try:
            key = Account.decrypt(json.loads(path.read_text(encoding="utf-8")), password)
        except FileNotFoundError as exc:
            raise ConfigurationError(f"no keystore file at {path}") from exc
        except Exception as exc:
            raise ConfigurationError(f"cannot decrypt the keystore {path}: {exc}") from exc
        return cls(Account.from_key(key))


class AnchorChain(ABC):
    """What the anchoring service needs from a chain. Every method raises ChainError on failure."""

    kind: str = "remote"
    """``local`` (our anvil), ``remote`` (an RPC endpoint) or ``in-process`` (eth-tester)."""

    @abstractmethod
    def chain_id(self) -> int:
        """The chain id the node reports."""

    @abstractmethod
    def block_number(self) -> int:
        """The height of the head block."""

    @abstractmethod
    def block(self, number: int) -> Block | None:
        """The canonical block at ``number``, or None if there is none (yet)."""

    @abstractmethod
    def root_at(self, contract: str, log_id: bytes, tree_size: int) -> bytes:
        """The root anchored for ``tree_size`` (32 zero bytes when none)."""

    @abstractmethod
    def latest(self, contract: str, log_id: bytes) -> tuple[int, bytes]:
        """The latest anchored tree size of the log and its root."""

    @abstractmethod
    def find_anchor(self, contract: str, log_id: bytes, tree_size: int) -> AnchorLog | None:
        """The CheckpointAnchored event of that log and size, if any."""

    @abstractmethod
    def anchor_calldata(self, log_id: bytes, tree_size: int, root: bytes) -> bytes:
        """The ABI-encoded call data of ``anchor(logId, treeSize, root)``."""

    @abstractmethod
    def estimate_gas(self, sender: str, to: str, data: bytes) -> int:
        """Estimate the gas of a call; ContractReverted with the decoded reason if it reverts."""

    @abstractmethod
    def nonce(self, address: str, *, pending: bool = True) -> int:
        """The transaction count of ``address`` (including the node's pending ones)."""

    @abstractmethod
    def fees(self) -> Fees:
        """The latest base fee and a priority fee suggestion."""

    @abstractmethod
    def send_raw(self, raw: bytes) -> bytes:
        """Broadcast a signed transaction; return its hash."""

    @abstractmethod
    def receipt(self, tx_hash: bytes) -> Receipt | None:
        """The receipt of a mined transaction, or None while it is not mined."""

    @abstractmethod
    def knows_transaction(self, tx_hash: bytes) -> bool:
        """True when the node has the transaction (pending or mined)."""

    @abstractmethod
    def balance(self, address: str) -> int:
        """The balance of ``address`` in wei."""

    @abstractmethod
    def code_at(self, address: str) -> bytes:
        """The deployed code at ``address`` (empty when none)."""

    @abstractmethod
    def deploy(self, signer: Signer) -> str:
        """Deploy EvidenceAnchor from the checked-in bytecode; return its address."""


def _wrapped(method: Callable[P, T]) -> Callable[P, T]:
    """Turn any third-party failure into ChainError; our own errors pass through."""

    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(*args, **kwargs)
        except EvidenceError:
            raise
        except Exception as exc:
            raise ChainError(
                f"chain call {method.__name__} failed: {type(exc).__name__}: {exc}"[:500],
                details={"call": method.__name__},
            ) from exc

    return call


class Web3Chain(AnchorChain):
    """The real chain, over web3: a JSON-RPC node, or eth-tester (py-evm) in process."""

    def __init__(self, w3: Web3, *, kind: str = "remote") -> None:
        self.w3 = w3
        self.kind = kind

    @classmethod
    def http(cls, url: str, *, kind: str = "remote", timeout: float = 10.0) -> Web3Chain:
        """A chain reached over HTTP JSON-RPC (no connection is made until the first call)."""
        return cls(Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": timeout})), kind=kind)

    @classmethod
    def in_process(cls) -> Web3Chain:
        """A fresh in-process py-evm chain (eth-tester), mining each transaction at once."""
        from web3 import EthereumTesterProvider

        return cls(Web3(EthereumTesterProvider()), kind="in-process")

    @_wrapped
    def chain_id(self) -> int:
        return int(self.w3.eth.chain_id)

    @_wrapped
    def block_number(self) -> int:
        return int(self.w3.eth.block_number)

    @_wrapped
    def block(self, number: int) -> Block | None:
        try:
            blk = self.w3.eth.get_block(number)
        except Exception as exc:  # BlockNotFound, or eth-tester's own
            if "not found" in str(exc).lower() or type(exc).__name__ == "BlockNotFound":
                return None
            raise
        return Block(int(blk["number"]), bytes(blk["hash"]), int(blk["timestamp"]))

    @_wrapped
    def root_at(self, contract: str, log_id: bytes, tree_size: int) -> bytes:
        fn = contract_at(self.w3, contract).functions.rootAt(log_id, tree_size)
        return bytes(fn.call())

    @_wrapped
    def latest(self, contract: str, log_id: bytes) -> tuple[int, bytes]:
        size, root = contract_at(self.w3, contract).functions.latest(log_id).call()
        return int(size), bytes(root)

    @_wrapped
    def find_anchor(self, contract: str, log_id: bytes, tree_size: int) -> AnchorLog | None:
        event = contract_at(self.w3, contract).events.CheckpointAnchored()
        logs = event.get_logs(
            argument_filters={"logId": log_id, "treeSize": tree_size}, from_block=0
        )
        if not logs:
            return None
        entry = logs[-1]
        return AnchorLog(
            tx_hash=bytes(entry["transactionHash"]),
            block_number=int(entry["blockNumber"]),
            block_hash=bytes(entry["blockHash"]),
            tree_size=int(entry["args"]["treeSize"]),
            root=bytes(entry["args"]["root"]),
        )

    def anchor_calldata(self, log_id: bytes, tree_size: int, root: bytes) -> bytes:
        zero = "0x" + "00" * 20
        fn = contract_at(self.w3, zero).functions.anchor(log_id, tree_size, root)
        return bytes(HexBytes(fn._encode_transaction_data()))

    @_wrapped
    def estimate_gas(self, sender: str, to: str, data: bytes) -> int:
        try:
            return int(
                self.w3.eth.estimate_gas(
                    {"from": Web3.to_checksum_address(sender), "to": to, "data": HexBytes(data)}
                )
            )
        except REVERT_EXCEPTIONS as exc:
            raise ContractReverted(decode_anchor_revert(exc)) from exc

    @_wrapped
    def nonce(self, address: str, *, pending: bool = True) -> int:
        return int(
            self.w3.eth.get_transaction_count(
                Web3.to_checksum_address(address), "pending" if pending else "latest"
            )
        )

    @_wrapped
    def fees(self) -> Fees:
        head = self.w3.eth.get_block("latest")
        base = int(head.get("baseFeePerGas") or 0)
        try:
            priority = int(self.w3.eth.max_priority_fee)
        except Exception:  # nodes without eth_maxPriorityFeePerGas
            priority = Web3.to_wei(1, "gwei")
        return Fees(base_fee=base, priority_fee=priority)

    @_wrapped
    def send_raw(self, raw: bytes) -> bytes:
        return bytes(self.w3.eth.send_raw_transaction(raw))

    @_wrapped
    def receipt(self, tx_hash: bytes) -> Receipt | None:
        try:
            rcpt = self.w3.eth.get_transaction_receipt(cast("Any", tx_hash))
        except TransactionNotFound:
            return None
        if rcpt is None or rcpt.get("blockNumber") is None:
            return None
        return Receipt(
            tx_hash=bytes(tx_hash),
            success=int(rcpt["status"]) == 1,
            block_number=int(rcpt["blockNumber"]),
            block_hash=bytes(rcpt["blockHash"]),
            gas_used=int(rcpt["gasUsed"]),
            logs=tuple(
                ChainLog(
                    Web3.to_checksum_address(entry["address"]),
                    tuple(bytes(topic) for topic in entry["topics"]),
                    bytes(entry["data"]),
                )
                for entry in rcpt["logs"]
            ),
        )

    @_wrapped
    def knows_transaction(self, tx_hash: bytes) -> bool:
        try:
            self.w3.eth.get_transaction(cast("Any", tx_hash))
        except TransactionNotFound:
            return False
        return True

    @_wrapped
    def balance(self, address: str) -> int:
        return int(self.w3.eth.get_balance(Web3.to_checksum_address(address)))

    @_wrapped
    def code_at(self, address: str) -> bytes:
        return bytes(self.w3.eth.get_code(Web3.to_checksum_address(address)))

    @_wrapped
    def deploy(self, signer: Signer) -> str:
        from evidence_chain.anchoring.contract import deploy

        return str(deploy(self.w3, signer.key))


class SwitchableChain(AnchorChain):
    """A test double around a real chain that can be switched down (every call: ChainError)."""

    def __init__(self, inner: AnchorChain) -> None:
        self.inner = inner
        self.kind = inner.kind
        self.down = False
        self.calls = 0

    def _up(self) -> AnchorChain:
        self.calls += 1
        if self.down:
            raise ChainError("chain unreachable (switched down)")
        return self.inner

    def chain_id(self) -> int:
        return self._up().chain_id()

    def block_number(self) -> int:
        return self._up().block_number()

    def block(self, number: int) -> Block | None:
        return self._up().block(number)

    def root_at(self, contract: str, log_id: bytes, tree_size: int) -> bytes:
        return self._up().root_at(contract, log_id, tree_size)

    def latest(self, contract: str, log_id: bytes) -> tuple[int, bytes]:
        return self._up().latest(contract, log_id)

    def find_anchor(self, contract: str, log_id: bytes, tree_size: int) -> AnchorLog | None:
        return self._up().find_anchor(contract, log_id, tree_size)

    def anchor_calldata(self, log_id: bytes, tree_size: int, root: bytes) -> bytes:
        return self.inner.anchor_calldata(log_id, tree_size, root)

    def estimate_gas(self, sender: str, to: str, data: bytes) -> int:
        return self._up().estimate_gas(sender, to, data)

    def nonce(self, address: str, *, pending: bool = True) -> int:
        return self._up().nonce(address, pending=pending)

    def fees(self) -> Fees:
        return self._up().fees()

    def send_raw(self, raw: bytes) -> bytes:
        return self._up().send_raw(raw)

    def receipt(self, tx_hash: bytes) -> Receipt | None:
        return self._up().receipt(tx_hash)

    def knows_transaction(self, tx_hash: bytes) -> bool:
        return self._up().knows_transaction(tx_hash)

    def balance(self, address: str) -> int:
        return self._up().balance(address)

    def code_at(self, address: str) -> bytes:
        return self._up().code_at(address)

    def deploy(self, signer: Signer) -> str:
        return self._up().deploy(signer)


def rpc_kind_and_host(url: str | None) -> tuple[str, str | None]:
    """How the node is reached, for display: never the URL's credentials, path or query."""
    if not url:
        return "local", "127.0.0.1"
    parts = urlsplit(url)
    return "remote", parts.hostname


class AnchorChainReader:
    """An :class:`AnchorChain` as the verifier's :class:`~evidence_chain.core.onchain.ChainReader`:
    the service checks the bundles it is shown against its own chain connection."""

    label = "the service's chain"

    def __init__(self, chain: AnchorChain) -> None:
        self.chain = chain

    def chain_id(self) -> int:
        """The chain id the node reports."""
        return self.chain.chain_id()

    def root_at(self, contract: str, log_id: bytes, tree_size: int) -> bytes | None:
        """``rootAt`` of ``contract``; None when there is no code at that address."""
        if not self.chain.code_at(contract):
            return None
        return self.chain.root_at(contract, log_id, tree_size)

    def receipt(self, tx_hash: bytes) -> ChainReceipt | None:
        """The receipt with its logs; None while the transaction is unknown or not mined."""
        found = self.chain.receipt(tx_hash)
        if found is None:
            return None
        return ChainReceipt(found.success, found.block_number, found.block_hash, found.logs)

    def block(self, number: int) -> ChainBlock | None:
        """The canonical block at ``number``, or None."""
        found = self.chain.block(number)
        return None if found is None else ChainBlock(found.number, found.hash, found.timestamp)
