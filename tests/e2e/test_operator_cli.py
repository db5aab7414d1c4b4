"""Bootstrapping operators from the shell: `agentgraph admin create-user|create-key` and
the demo operators of `agentgraph demo seed`, as subprocesses on a real SQLite file,
then used against the server."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from agentgraph.config import Settings
from server.app import create_app
from tests.e2e.test_cli import run_cli
from tests.support.live_server import live_server
from tests.support.operators import bearer


async def _me(data_dir: Path, *, email: str | None = None, password: str = "", key: str = ""):
    settings = Settings(AGENTGRAPH_DATA_DIR=data_dir, AGENTGRAPH_OFFLINE=True)
    async with (
        live_server(create_app(settings)) as base,
        httpx.AsyncClient(base_url=base) as http,
    ):
        if email is not None:
            login = await http.post(
                "/api/v1/auth/token", data={"username": email, "password": password}
            )
            if login.status_code != 200:
                return login.status_code, login.json()
            key = login.json()["access_token"]
        me = await http.get("/api/v1/auth/me", headers=bearer(key))
        return me.status_code, me.json()


async def test_admin_create_user_reads_the_password_from_stdin(tmp_path: Path):
    assert run_cli(["demo", "seed"], tmp_path).returncode == 0
    made = run_cli(
        [
            "admin",
            "create-user",
            "--email",
            " Ops@Acme.test",
            "--role",
            "tenant_admin",
            "--tenant",
            "acme",
            "--password-stdin",
        ],
        tmp_path,
        stdin="a long enough secret\n",
    )
    assert made.returncode == 0, made.stderr
    assert re.fullmatch(
        r"operator \d+ created: ops@acme.test \(tenant_admin of acme\)\n", made.stdout
    )
    assert "a long enough secret" not in made.stdout + made.stderr
    status, me = await _me(tmp_path, email="ops@acme.test", password="a long enough secret")
    assert status == 200 and (me["role"], me["tenant"]) == ("tenant_admin", "acme")

    refusals = [
        (
            ["--email", "ops@acme.test", "--role", "agent", "--tenant", "acme"],
            "x" * 10,
            "An operator with the email ops@acme.test already exists.",
        ),
        (
            ["--email", "b@acme.test", "--role", "agent", "--tenant", "acme"],
            "short",
            "A password has 8 to 128 characters.",
        ),
        (
            ["--email", "c@acme.test", "--role", "agent", "--tenant", "nowhere"],
            "x" * 10,
            "No business is registered under 'nowhere'.",
        ),
        (
            ["--email", "d@acme.test", "--role", "super_admin", "--tenant", "acme"],
            "x" * 10,
            "A super_admin has no tenant.",
        ),
        (
            ["--email", "e@acme.test", "--role", "agent"],
            "x" * 10,
            "The role agent belongs to a tenant: give one.",
        ),
        (
            ["--email", "not-an-email", "--role", "agent", "--tenant", "acme"],
            "x" * 10,
            "Please give a valid email address.",
        ),
    ]
    for args, password, message in refusals:
        done = run_cli(["admin", "create-user", *args, "--password-stdin"], tmp_path, password)
        assert done.returncode == 2, args
        assert done.stderr.strip() == f"agentgraph: {message}", args
        assert "Traceback" not in done.stderr
    root = run_cli(
        [
            "admin",
            "create-user",
            "--email",
            "root@ops.test",
            "--role",
            "super_admin",
            "--password-stdin",
        ],
        tmp_path,
        stdin="root password here\n",
    )
    assert root.returncode == 0 and "(super_admin)" in root.stdout


async def test_admin_create_key_prints_the_key_once(tmp_path: Path):
    assert run_cli(["demo", "seed"], tmp_path).returncode == 0
    made = run_cli(
        ["admin", "create-key", "--tenant", "easymo", "--role", "viewer", "--name", "dashboards"],
        tmp_path,
    )
    assert made.returncode == 0, made.stderr
    header, secret = made.stdout.splitlines()
    assert re.fullmatch(r"API key \d+ \(viewer of easymo, 'dashboards'\); shown only once:", header)
    assert secret.startswith("ak_")
    status, me = await _me(tmp_path, key=secret)
    assert status == 200
    assert (me["kind"], me["role"], me["tenant"], me["name"]) == (
        "api_key",
        "viewer",
        "easymo",
        "dashboards",
    )
    for args, message in (
        (
            ["--tenant", "nowhere", "--role", "viewer", "--name", "x"],
            "agentgraph: No business is registered under 'nowhere'.",
        ),
        (
            ["--tenant", "easymo", "--role", "viewer", "--name", " "],
            "agentgraph: --name: 1 to 100 characters",
        ),
    ):
        done = run_cli(["admin", "create-key", *args], tmp_path)
        assert done.returncode == 2 and done.stderr.strip() == message
    wrong_role = run_cli(
        ["admin", "create-key", "--tenant", "easymo", "--role", "super_admin", "--name", "x"],
        tmp_path,
    )
    assert wrong_role.returncode == 2 and "invalid choice" in wrong_role.stderr


async def test_demo_seed_prints_one_operator_per_role_with_a_working_password(tmp_path: Path):
    first = run_cli(["demo", "seed"], tmp_path)
    assert first.returncode == 0, first.stderr
    rows = re.findall(r"^  (\w+) +(\S+@\S+) +(\S+)$", first.stdout, re.M)
    assert [(role, email) for role, email, _ in rows] == [
        ("super_admin", "super@agentgraph.test"),
        ("tenant_admin", "admin@easymo.test"),
        ("agent", "agent@easymo.test"),
        ("viewer", "viewer@easymo.test"),
    ]
    again = run_cli(["demo", "seed"], tmp_path)
    assert again.returncode == 0, again.stderr
    new_rows = re.findall(r"^  (\w+) +(\S+@\S+) +(\S+)$", again.stdout, re.M)
    assert [r[:2] for r in new_rows] == [r[:2] for r in rows]
    _, email, old_password = rows[1]
    assert (await _me(tmp_path, email=email, password=old_password))[0] == 401
    status, me = await _me(tmp_path, email=email, password=new_rows[1][2])
    assert status == 200 and (me["role"], me["tenant"]) == ("tenant_admin", "easymo")
