"""The console's contract list and the envelope search, at size.

One tenant's envelopes are written straight into the database in bulk (envelopes, one or two
parties each, and their rows of the search index, as ``signing.envelopes.search`` writes
them), then the Flask app answers in process, so the figures are the server's own time
(routing, session, queries, template), without a network:

- the console's contract list ``/app/contracts`` (first page, a deep page, a status filter)
  with 10,000 envelopes: p95 under 250 ms;
- the search, console and API, by a Chinese party name, a title word and an email, with
  100,000 envelopes: p95 under 500 ms.

``BENCH_DATABASE_URL`` runs it on PostgreSQL (pg_trgm) instead of SQLite (FTS5 trigram).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text

from evidence_chain.config import load_settings
from runtime.setup import initialise
from tests.console.helpers import login, set_password, tenant_with_owner

LIST_SIZE = 10_000
SEARCH_SIZE = 100_000
REPEATS = 40
LIST_TARGET_MS = 250.0
SEARCH_TARGET_MS = 500.0
BATCH = 5_000
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国志红文斌"
WORDS = ("房屋租赁合同", "采购合同", "保密协议", "劳动合同", "Supply contract", "NDA", "服务协议")
RARE_NAME = "欧阳娜娜"  # one envelope in 10,000 has her


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] * 1000


def _seed(engine: Any, tenant_id: int, start: int, count: int, rng: random.Random) -> None:
    from signing.envelopes.search import PG_INDEX, SQLITE_INDEX, texts
    from signing.envelopes.store import ENVELOPE, PARTY

    postgres = engine.dialect.name == "postgresql"
    now = dt.datetime.now(dt.UTC)
    statuses = ("draft", "sent", "in_progress", "completed", "completed", "declined")
    for base in range(start, start + count, BATCH):
        envs, parties, index = [], [], []
        with engine.begin() as conn:
            first = conn.execute(select(ENVELOPE.c.id).order_by(ENVELOPE.c.id.desc())).scalar()
            next_id = (first or 0) + 1
            for i in range(base, min(base + BATCH, start + count)):
                env_id = next_id
                next_id += 1
                public = f"env_bench{i:015d}"
                title = f"{rng.choice(WORDS)} {2020 + i % 7}-{i}"
                created = now - dt.timedelta(minutes=(start + count - i))
                envs.append(
                    {
                        "id": env_id,
                        "public_id": public,
                        "tenant_id": tenant_id,
                        "title": title,
                        "status": statuses[i % len(statuses)],
                        "order_mode": "sequential",
                        "version": 1,
                        "expires_at": now + dt.timedelta(days=30),
                        "created_at": created,
                    }
                )
                names = [rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)]
                if i % 10_000 == 4_242:
                    names.append(RARE_NAME)
                elif i % 2:
                    names.append("Alex " + rng.choice(("Lee", "Wong", "Smith", "Chan")))
                rows = []
                for k, name in enumerate(names):
                    row = {
                        "public_id": f"pty_bench{i:015d}{k}",
                        "envelope_id": env_id,
                        "name": name,
                        "email": f"p{i}x{k}@example.test",
                        "kind": "person",
                        "organisation": "深圳示例科技有限公司" if k else None,
                        "routing_order": k + 1,
                        "status": "pending",
                        "otp_tries": 0,
                        "otp_locked": False,
                    }
                    rows.append(row)
                parties += rows
                body, who = texts(public, title, [_Row(r) for r in rows])
                if postgres:
                    index.append(
                        {
                            "envelope_id": env_id,
                            "tenant_id": tenant_id,
                            "body": body,
                            "parties": who,
                        }
                    )
                else:
                    index.append({"rowid": env_id, "body": body, "parties": who})
            conn.execute(insert(ENVELOPE), envs)
            conn.execute(insert(PARTY), parties)
            conn.execute(insert(PG_INDEX if postgres else SQLITE_INDEX), index)
    if postgres:  # what autovacuum does soon after a bulk load: the planner's statistics
        with engine.begin() as conn:
            conn.execute(text("ANALYZE envelope, envelope_party, envelope_search"))


class _Row:
    def __init__(self, values: dict[str, Any]) -> None:
        self.name = values["name"]
        self.email = values["email"]
        self.organisation = values["organisation"]


def _getter(client: Any, path: str, headers: dict[str, str]) -> Callable[[], Any]:
    return lambda: client.get(path, headers=headers)


def _time(get: Callable[[], Any]) -> list[float]:
    get()  # warm
    samples = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        answer = get()
        samples.append(time.perf_counter() - t0)
        if answer.status_code != 200:
            raise RuntimeError(f"{answer.status_code}: {answer.get_data(as_text=True)[:300]}")
    return samples


def run() -> list[str]:
    """Seed, time, report; the targets missed."""
    from app import create_app
    from evidence_chain.models import Tenant
    from evidence_chain.tenants import issue_key
    from web import context

    failures: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        database = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{Path(tmp) / 'b.db'}"
        settings = load_settings(
            {
                "EVIDENCE_HOME": tmp,
                "DATABASE_URL": database,
                "EVIDENCE_SCHEDULER": "false",
                "EVIDENCE_ANCHORING": "false",
                "EVIDENCE_LOG_ORIGIN": "sealtrail.bench/log",
            }
        )
        initialise(settings)
        app = create_app(settings)
        app.config["TESTING"] = True
        try:
            client = app.test_client()
            set_password(client, tenant_with_owner(app, "示例科技有限公司", "o@example.test"))
            login(client, "o@example.test")
            engine = context.services(app).engine
            table = Tenant.__table__  # type: ignore[attr-defined]
            with engine.connect() as conn:
                tenant_id = int(conn.execute(select(table.c.id)).scalar_one())
            _, key = issue_key(engine, tenant_id, "bench")
            auth = {"Authorization": f"Bearer {key}"}
            rng = random.Random(7)
            t0 = time.perf_counter()
            _seed(engine, tenant_id, 0, LIST_SIZE, rng)
            print(f"   seeded {LIST_SIZE:,} envelopes in {time.perf_counter() - t0:.1f} s")
            for label, path in (
                ("list, first page", "/app/contracts"),
                ("list, page 200", "/app/contracts?page=200"),
                ("list, status completed", "/app/contracts?status=completed"),
                ("dashboard", "/app"),
            ):
                p95 = _p95(_time(_getter(client, path, {})))
                print(f"   console {label} at {LIST_SIZE:,}: p95 {p95:.1f} ms")
                if p95 > LIST_TARGET_MS:
                    failures.append(f"console {label}: p95 {p95:.0f} ms > {LIST_TARGET_MS:.0f}")
            t0 = time.perf_counter()
            _seed(engine, tenant_id, LIST_SIZE, SEARCH_SIZE - LIST_SIZE, rng)
            print(f"   seeded up to {SEARCH_SIZE:,} in {time.perf_counter() - t0:.1f} s")
            for label, path, headers in (
                ("console, rare Chinese name", f"/app/contracts?q={RARE_NAME}", {}),
                ("console, common title word", "/app/contracts?q=保密协议", {}),
                ("API, rare Chinese name", f"/api/v1/envelopes?q={RARE_NAME}", auth),
                ("API, two-character name + status", "/api/v1/envelopes?q=张伟&status=sent", auth),
                ("API, email", "/api/v1/envelopes?q=p99999x0@example", auth),
                ("API, list page 1", "/api/v1/envelopes?limit=50", auth),
            ):
                p95 = _p95(_time(_getter(client, path, headers)))
                print(f"   search {label} at {SEARCH_SIZE:,}: p95 {p95:.1f} ms")
                if p95 > SEARCH_TARGET_MS:
                    failures.append(f"search {label}: p95 {p95:.0f} ms > {SEARCH_TARGET_MS:.0f}")
            found = client.get(f"/api/v1/envelopes?q={RARE_NAME}", headers=auth).get_json()
            if len(found["envelopes"]) != SEARCH_SIZE // 10_000:
                failures.append(f"search found {len(found['envelopes'])} of {RARE_NAME}")
        finally:
            context.close(app)
    return failures
