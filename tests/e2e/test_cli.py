"""The `agentgraph` CLI as a user runs it: subprocesses, real SQLite, offline model."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ALICE = "+250788000001"


def run_cli(
    args: list[str], data_dir: Path, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "OPENAI_API_KEY")}
    environ.update(
        AGENTGRAPH_DATA_DIR=str(data_dir), AGENTGRAPH_OFFLINE="1", LANGSMITH_TRACING="false", **env
    )
    return subprocess.run(
        [sys.executable, "-m", "agentgraph.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
    )


def chat(
    lines: list[str], data_dir: Path, user: str = ALICE, tenant: str | None = None
) -> list[dict]:
    args = ["chat", "--user", user, "--jsonl"] + (["--tenant", tenant] if tenant else [])
    proc = run_cli(args, data_dir, "\n".join(lines) + "\n")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["input"] for r in rows] == [line.strip() for line in lines]
    return rows


@pytest.fixture(scope="module")
def seeded_dir(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("cli")
    proc = run_cli(["demo", "seed"], data_dir)
    assert proc.returncode == 0, proc.stderr
    assert "demo data ready" in proc.stdout
    again = run_cli(["demo", "seed"], data_dir)
    assert again.returncode == 0, again.stderr
    return data_dir


def test_db_upgrade_is_idempotent(tmp_path):
    for _ in range(2):
        proc = run_cli(["db", "upgrade"], tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert "database up to date (sqlite" in proc.stdout


def test_malformed_setting_exits_with_a_clear_message(tmp_path):
    proc = run_cli(["db", "upgrade"], tmp_path, DATABASE_URL="mysql://nope")
    assert proc.returncode == 2
    assert "DATABASE_URL" in proc.stderr and "Traceback" not in proc.stderr


def test_unknown_tenant_is_refused_with_the_known_ones(seeded_dir):
    proc = run_cli(["chat", "--user", ALICE, "--tenant", "nosuch"], seeded_dir, "hi\n")
    assert proc.returncode == 2
    assert "No business is registered under 'nosuch'" in proc.stderr
    assert "acme, easymo" in proc.stderr
    assert proc.stdout == ""


def test_bad_phone_is_refused(seeded_dir):
    proc = run_cli(["chat", "--user", "not-a-phone"], seeded_dir, "hi\n")
    assert proc.returncode == 2 and "--user" in proc.stderr


def test_wallet_flow_with_confirmation(seeded_dir):
    rows = chat(
        [
            "hi",
            "what is my balance?",
            "send 5000 to 0788000002",
            "yes",
            "yes",
            "show my last transactions",
        ],
        seeded_dir,
        user="+250788000005",
    )
    assert rows[0]["agent"] == "triage" and rows[0]["replies"]
    assert rows[1]["agent"] == "payment" and "50,000 RWF" in rows[1]["replies"][-1]
    assert rows[2]["awaiting_confirmation"] is True
    assert "5,000 RWF" in rows[2]["replies"][-1]
    assert rows[3]["awaiting_confirmation"] is False and "45,000 RWF" in rows[3]["replies"][-1]
    # A second yes has nothing to confirm and moves nothing.
    assert rows[4]["awaiting_confirmation"] is False
    assert (
        "45,000" not in " ".join(rows[4]["replies"])
        or "nothing" in " ".join(rows[4]["replies"]).lower()
    )
    assert "5,000 RWF" in rows[5]["replies"][-1]
    balance = chat(["balance"], seeded_dir, user="+250788000005")
    assert "45,000 RWF" in balance[0]["replies"][-1]


def test_transfer_then_no_moves_nothing(seeded_dir):
    rows = chat(["send 1000 to 0788000003", "no", "balance"], seeded_dir, user="+250788000006")
    assert rows[0]["awaiting_confirmation"] is True
    assert rows[1]["awaiting_confirmation"] is False
    assert "50,000 RWF" in rows[2]["replies"][-1]


def test_booking_flow_and_topic_switch(seeded_dir):
    rows = chat(
        ["I need a bus from Kigali to Huye tomorrow", "show my last transactions", "my bookings"],
        seeded_dir,
        user="+250788000007",
    )
    assert rows[0]["agent"] == "booking" and "Trip " in rows[0]["replies"][-1]
    assert rows[1]["agent"] == "payment" and "+50,000 RWF" in rows[1]["replies"][-1]
    assert rows[2]["agent"] == "booking" and "no active bookings" in rows[2]["replies"][-1]
    trip_id = rows[0]["replies"][-1].split("Trip ", 1)[1].split(":", 1)[0]
    booked = chat(
        [f"book trip {trip_id}", "yes", "my bookings", "cancel booking"],
        seeded_dir,
        user="+250788000007",
    )
    assert booked[0]["awaiting_confirmation"] is True
    assert f"trip {trip_id}" in booked[0]["replies"][-1]
    assert "Booked" in booked[1]["replies"][-1]
    booking_id = booked[1]["replies"][-1].split("booking ", 1)[1].split(",", 1)[0]
    assert f"Booking {booking_id}" in booked[2]["replies"][-1]
    cancel = chat(
        [f"cancel booking {booking_id}", "oui", "balance"], seeded_dir, user="+250788000007"
    )
    assert cancel[0]["awaiting_confirmation"] is True
    assert "Refunded" in cancel[1]["replies"][-1]
    assert "50,000 RWF" in cancel[2]["replies"][-1]


def test_support_flows(seeded_dir):
    rows = chat(
        [
            "how do I reset my PIN?",
            "I was billed twice on my invoice, open a ticket",
            "status of ticket 1",
        ],
        seeded_dir,
        user="+250788000008",
    )
    assert rows[0]["agent"] == "support" and rows[0]["replies"][-1]
    assert "Ticket #" in rows[1]["replies"][-1] and "high priority" in rows[1]["replies"][-1]
    ticket = rows[1]["replies"][-1].split("Ticket #", 1)[1].split(" ", 1)[0]
    status = chat([f"status of ticket {ticket}"], seeded_dir, user="+250788000008")
    assert f"Ticket #{ticket}" in status[0]["replies"][-1]


def test_an_urgent_ticket_hands_the_conversation_to_a_person(seeded_dir):
    rows = chat(
        ["my transfer failed and money is missing, open a ticket", "hello?"],
        seeded_dir,
        user="+250788000011",
    )
    assert "urgent priority" in rows[0]["replies"][-1]
    assert rows[1]["replies"] == []


def test_saas_account_lookups(seeded_dir):
    own = run_cli(
        [
            "chat",
            "--user",
            "+250788000009",
            "--tenant",
            "acme",
            "--jsonl",
            "--email",
            "alice@acme.test",
        ],
        seeded_dir,
        "my subscription details\ninvoices for bob@acme.test\n",
    )
    assert own.returncode == 0, own.stderr
    rows = [json.loads(line) for line in own.stdout.splitlines()]
    assert rows[0]["replies"][-1].startswith("Subscriptions for alice@acme.test:")
    assert "only show the account registered to you" in rows[1]["replies"][-1]
    staff = run_cli(
        ["chat", "--user", "+250788000009", "--tenant", "acme", "--jsonl", "--staff"],
        seeded_dir,
        "invoices for  BOB@acme.test \ncustomer info for nobody@acme.test\n",
    )
    assert staff.returncode == 0, staff.stderr
    rows = [json.loads(line) for line in staff.stdout.splitlines()]
    assert "bob@acme.test" in rows[0]["replies"][-1]
    assert "No customer found with email: nobody@acme.test" in rows[1]["replies"][-1]


def test_escalation_silences_the_bot(seeded_dir):
    rows = chat(["I want to talk to a human", "hello?"], seeded_dir, user="+250788000010")
    assert "ticket #" in rows[0]["replies"][-1].lower()
    assert rows[1]["replies"] == []


def test_french_and_gibberish_get_helpful_answers(seeded_dir):
    rows = chat(["bonjour", "qwertyuiop zxcv", "menu"], seeded_dir, user="+250788000004")
    for row in rows:
        assert row["replies"] and all(r.strip() for r in row["replies"])
    assert (
        rows[0]["replies"][-1] != rows[2]["replies"][-1]
        or "solde" in rows[0]["replies"][-1].lower()
    )


def test_plain_pipe_prints_replies(seeded_dir):
    proc = run_cli(["chat", "--user", "+250788000003"], seeded_dir, "balance\n\n")
    assert proc.returncode == 0, proc.stderr
    assert "50,000 RWF" in proc.stdout


def test_interactive_terminal_session(seeded_dir):
    """On a TTY `chat` prompts, answers each line with the agent's name, and quits on Ctrl-D."""
    import pty
    import select
    import time

    pid, fd = pty.fork()
    if pid == 0:  # child: become the CLI on the pseudo-terminal
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "OPENAI_API_KEY")}
        env.update(AGENTGRAPH_DATA_DIR=str(seeded_dir), AGENTGRAPH_OFFLINE="1")
        os.execve(
            sys.executable,
            [sys.executable, "-m", "agentgraph.cli", "chat", "--user", "+250788000003"],
            env,
        )

    def read_until(marker: str, timeout: float = 60) -> str:
        out = b""
        deadline = time.monotonic() + timeout
        while marker.encode() not in out and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    out += os.read(fd, 4096)
                except OSError:
                    break
        return out.decode(errors="replace")

    try:
        assert "you> " in read_until("you> ")
        os.write(fd, b"what is my balance\n")
        answer = read_until("you> ")
        assert "payment> Your wallet balance is" in answer
        os.write(fd, b"\x04")  # Ctrl-D ends the session
        _, status = os.waitpid(pid, 0)
        assert os.WEXITSTATUS(status) == 0
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 9)
        os.close(fd)
