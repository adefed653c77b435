"""Group commit: appends made at the same time in one process share one transaction.

Every acknowledged event costs the log one durable commit (an fsync of SQLite's WAL, a WAL
flush on PostgreSQL) and one turn of the sequencer. When several threads of a worker append
at once, the first becomes the *leader*: it takes every request waiting at that moment, runs
them one after another in a single transaction and commits once; the others wait for that
commit and return their own receipts. A receipt is still returned only after the
transaction that holds it committed. While a leader works, new requests queue; when it is
done, the oldest waiting request leads the next group (the leader is never kept busy with
other people's work after its own group).

Shared state, and why it is safe: ``_queue`` and ``_leading`` are read and written only
under ``_lock``; the counters ``groups`` and ``grouped`` only by the one leader of the
moment; a waiting request's result is written by the one leader that took it, before that
leader sets the request's event, and read by its own thread only after the event.

The work function takes the whole group (so it can write the group in one pass) and gives
each request its result or the :class:`~evidence_chain.errors.EvidenceError` that refused it
(an idempotency conflict, say): a refused request fails alone, and the others' writes in the
transaction stand. Any other failure (the database
refusing a write, the commit failing) rolls the whole group back, and each request is then
run again alone in its own transaction, so a faulty request cannot fail its neighbours and
nothing is acknowledged that did not commit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from sqlalchemy import Connection, Engine

from evidence_chain.errors import EvidenceError

R = TypeVar("R")
T = TypeVar("T")


class _Pending(Generic[R, T]):
    __slots__ = ("done", "error", "lead", "request", "result", "size")

    def __init__(self, request: R, size: int) -> None:
        self.request = request
        self.size = size
        self.done = threading.Event()
        self.lead = False  # set with ``done`` when this request is to lead the next group
        self.result: T | None = None
        self.error: BaseException | None = None

    def outcome(self) -> T:
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


class GroupCommit(Generic[R, T]):
    """Run ``work(conn, requests)`` for concurrent requests in shared transactions.

    ``work`` returns one result or refusal per request, in order. ``size`` gives
    each request's weight (events, say); a group holds at most ``max_size`` of it (and always
    at least one request), so one transaction stays short.
    """

    def __init__(
        self,
        engine: Engine,
        work: Callable[[Connection, Sequence[R]], Sequence[T | EvidenceError]],
        *,
        size: Callable[[R], int] = lambda _r: 1,
        max_size: int = 5_000,
    ) -> None:
        self.engine = engine
        self.work = work
        self.size = size
        self.max_size = max_size
        self._lock = threading.Lock()
        self._queue: list[_Pending[R, T]] = []
        self._leading = False
        self.groups = 0  # transactions committed for groups of more than one request
        self.grouped = 0  # requests that shared such a transaction

    def submit(self, request: R) -> T:
        """Run ``request`` (alone or with others) and return its result once committed."""
        me: _Pending[R, T] = _Pending(request, self.size(request))
        with self._lock:
            self._queue.append(me)
            lead = not self._leading
            self._leading = True
        if not lead:
            me.done.wait()
            if not me.lead:
                return me.outcome()
        try:
            with self._lock:
                group = self._take()
            self._run(group)
        finally:
            with self._lock:
                if self._queue:
                    successor = self._queue[0]
                    successor.lead = True
                    successor.done.set()
                else:
                    self._leading = False
        return me.outcome()

    def _take(self) -> list[_Pending[R, T]]:
        """The oldest waiting requests up to ``max_size`` (under ``_lock``)."""
        total = 0
        n = 0
        for pending in self._queue:
            if n and total + pending.size > self.max_size:
                break
            total += pending.size
            n += 1
        group = self._queue[:n]
        del self._queue[:n]
        return group

    def _run(self, group: Sequence[_Pending[R, T]]) -> None:
        try:
            if len(group) == 1:
                self._alone(group[0])
                return
            try:
                with self.engine.begin() as conn:
                    outcomes = self.work(conn, [pending.request for pending in group])
                    for pending, outcome in zip(group, outcomes, strict=True):
                        self._settle(pending, outcome)
                self.groups += 1
                self.grouped += len(group)
            except Exception:
                for pending in group:
                    pending.result = pending.error = None
                    self._alone(pending)
        except BaseException as exc:  # never leave a waiting thread without an answer
            for pending in group:
                if pending.result is None and pending.error is None:
                    pending.error = exc
            raise
        finally:
            for pending in group:
                pending.done.set()

    def _alone(self, pending: _Pending[R, T]) -> None:
        try:
            with self.engine.begin() as conn:
                (outcome,) = self.work(conn, [pending.request])
                self._settle(pending, outcome)
        except Exception as exc:  # handed to the request's own thread
            pending.result = None
            pending.error = exc

    @staticmethod
    def _settle(pending: _Pending[R, T], outcome: T | EvidenceError) -> None:
        if isinstance(outcome, EvidenceError):
            pending.error = outcome
        else:
            pending.result = outcome
