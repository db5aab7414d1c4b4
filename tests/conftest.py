"""Shared fixtures: real Postgres and Redis servers, fresh databases per test session.

Postgres comes from TEST_DATABASE_URL (default: the local server on 5432, database
`postgres` for admin). Each test session creates its own database and drops it at
the end, so runs never see each other's rows. When a service is unreachable the
tests that need it fail with a message saying so; they are never skipped, because
CI must not go green without them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from agentgraph.config import Settings
from tests.support.collection import covers_whole_suite, expected_count, shortfall
from tests.support.openai_server import openai_server  # noqa: F401  (shared fixture)

ADMIN_URL = os.environ.get(
    "TEST_DATABASE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _with_db(url: str, dbname: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{dbname}"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of a fresh, empty Postgres database for this test session."""
    name = f"agentgraph_test_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is required for this test but {ADMIN_URL} is unreachable: {exc}",
            pytrace=False,
        )
    yield _with_db(ADMIN_URL, name)
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh_pg_url(pg_url: str) -> Iterator[str]:
    """A brand-new database for one test (for tests that need an empty schema)."""
    name = f"agentgraph_t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield _with_db(ADMIN_URL, name)
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_settings(tmp_path) -> Settings:
    """Settings for the embedded default: SQLite under a temp dir, offline model."""
    return Settings(AGENTGRAPH_DATA_DIR=tmp_path, AGENTGRAPH_OFFLINE=True)


@pytest.fixture
def pg_settings(fresh_pg_url: str, tmp_path) -> Settings:
    """Settings pointing at a fresh Postgres database, offline model."""
    return Settings(
        DATABASE_URL=fresh_pg_url, AGENTGRAPH_DATA_DIR=tmp_path, AGENTGRAPH_OFFLINE=True
    )


@pytest.fixture(params=["sqlite", "postgres"])
def any_settings(request) -> Settings:
    """Runs the test once on each engine."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_settings")
    return request.getfixturevalue("pg_settings")


@pytest.fixture
def redis_url() -> str:
    """URL of the test Redis server; fails (never skips) when it is unreachable."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is required for this test but {REDIS_URL} is unreachable: {exc}")
    return REDIS_URL


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix unique to one test (AGENTGRAPH_REDIS_PREFIX); its keys are deleted after."""
    import redis

    prefix = f"agtest:{uuid.uuid4().hex[:10]}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(autouse=True)
def _no_network_tracing(monkeypatch) -> None:
    """Tracing to a real LangSmith would hang ~12 s on flush here; tests opt in explicitly."""
    monkeypatch.setenv("LANGSMITH_TRACING", "false")
    monkeypatch.setenv("LANGCHAIN_TRACING_V2", "false")
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(var, raising=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI every test runs and passes: a skip (a missing service), an xfail, an xpass
    or a deselection (`-k`, `-m`, `--deselect`) fails the run instead of passing it, and
    so does a run of the whole suite collecting fewer tests than `tests/.expected_count`
    says the suite holds."""
    if os.environ.get("CI", "").lower() not in ("1", "true", "yes"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    stats = reporter.stats if reporter else {}
    counts = {kind: len(stats.get(kind, [])) for kind in ("skipped", "xfailed", "xpassed")}
    counts["deselected"] = len(stats.get("deselected", []))
    problems = {kind: n for kind, n in counts.items() if n}
    if problems:
        listed = ", ".join(f"{n} {kind}" for kind, n in problems.items())
        print(f"\nCI: {listed}; failing the run (every test must run and pass in CI).")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    config = session.config
    whole = covers_whole_suite(list(config.args), Path(config.invocation_params.dir))
    missing = shortfall(session.testscollected, expected_count()) if whole else None
    if missing:
        print(f"\nCI: {missing}; failing the run (see tests/support/collection.py).")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
