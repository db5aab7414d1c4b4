"""The `agentgraph` command: chat, serve, run workers, migrate the database, seed demo data.

    agentgraph chat --user +250788000001 [--tenant easymo] [--jsonl] [--email E] [--staff]
    agentgraph serve [--host 127.0.0.1] [--port 8000] [--workers N]
    agentgraph worker
    agentgraph db upgrade
    agentgraph demo seed
    agentgraph agents list [--tenant T]
    agentgraph agents set-status AGENT_ID active|inactive|maintenance [--message M] [--tenant T]
    agentgraph admin create-user --email E --role R [--tenant T] --password-stdin
    agentgraph admin create-key --tenant T --role R --name N
    agentgraph inbox list|reply|release ...

`chat` is interactive on a terminal; on a pipe it reads one message per line and
prints the replies (or, with --jsonl, one JSON object per input line). `worker` runs
WhatsApp turns without HTTP until SIGTERM (with `REDIS_URL` it shares the servers'
queue). Configuration comes from the environment (see README); a malformed value,
or a tenant that does not exist, exits with status 2 and a message naming it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TextIO

from langchain_core.language_models import BaseChatModel

from agentgraph.cli_admin import add_admin_parser, print_demo_operators, run_admin
from agentgraph.cli_inbox import add_inbox_parser, run_inbox
from agentgraph.config import ConfigError, Settings, load_settings
from agentgraph.domain import Domain, DomainError, TenantNotFound
from agentgraph.domain.phones import normalize_phone
from agentgraph.observability.logging import configure_logging, uvicorn_log_config
from agentgraph.observability.otel import open_otel
from agentgraph.persistence import open_domain, open_persistence
from agentgraph.runtime.assistant import open_assistant
from agentgraph.runtime.channel import open_whatsapp_channel
from agentgraph.runtime.heap import settle_heap
from agentgraph.runtime.turns import TurnResult
from agentgraph.runtime.worker import consuming

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agentgraph", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    chat = sub.add_parser("chat", help="talk to the assistant (stdin/stdout)")
    chat.add_argument("--user", required=True, help="your phone number, e.g. +250788000001")
    chat.add_argument(
        "--tenant", default=None, help="tenant id (default: AGENTGRAPH_DEFAULT_TENANT)"
    )
    chat.add_argument("--jsonl", action="store_true", help="print one JSON object per input line")
    chat.add_argument(
        "--email", default=None, help="your verified email (SaaS tenants: your own account)"
    )
    chat.add_argument(
        "--staff", action="store_true", help="operator console: look up any customer account"
    )

    serve = sub.add_parser("serve", help="run the HTTP server (WhatsApp webhook, health, metrics)")
    serve.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument(
        "--workers", type=int, default=1, help="server processes; more than one needs REDIS_URL"
    )

    sub.add_parser(
        "worker", help="answer queued WhatsApp conversations without HTTP (until SIGTERM)"
    )

    db = sub.add_parser("db", help="database commands")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="create or migrate all tables (idempotent)")

    demo = sub.add_parser("demo", help="demo data")
    demo_sub = demo.add_subparsers(dest="demo_command", required=True)
    demo_sub.add_parser(
        "seed", help="load the demo tenants, users, trips and articles (idempotent)"
    )

    agents = sub.add_parser("agents", help="the agent registry")
    agents_sub = agents.add_subparsers(dest="agents_command", required=True)
    listing = agents_sub.add_parser("list", help="agents a tenant runs (default: global ones)")
    listing.add_argument("--tenant", default=None, help="tenant id")
    status = agents_sub.add_parser("set-status", help="activate, deactivate, or maintenance")
    status.add_argument("agent_id", type=int)
    status.add_argument("status", choices=("active", "inactive", "maintenance"))
    status.add_argument("--message", default=None, help="what users are told in maintenance")
    status.add_argument("--tenant", default=None, help="tenant id (a global agent: its config)")
    status.add_argument("--actor", default="cli", help="who to record in the agent's history")
    add_admin_parser(sub)
    add_inbox_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one `agentgraph` command; returns the process exit status (2: bad input)."""
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"agentgraph: {exc}", file=sys.stderr)
        return 2
    configure_logging(level=logging.WARNING)
    try:
        if args.command == "chat":
            return asyncio.run(_chat(settings, args))
        if args.command == "serve":
            return _serve(settings, args.host, args.port, args.workers)
        if args.command == "worker":
            configure_logging(level=logging.INFO)
            _run(serve_worker(settings))
            return 0
        if args.command == "db":
            return asyncio.run(_db_upgrade(settings))
        if args.command == "agents":
            return asyncio.run(_agents(settings, args))
        if args.command == "admin":
            return asyncio.run(run_admin(settings, args))
        if args.command == "inbox":
            return asyncio.run(run_inbox(settings, args))
        return asyncio.run(_demo_seed(settings))
    except KeyboardInterrupt:
        return 130


def _serve(settings: Settings, host: str, port: int, workers: int) -> int:
    if workers < 1:
        print("agentgraph: --workers must be at least 1", file=sys.stderr)
        return 2
    if workers > 1 and not settings.redis_url:
        print(
            "agentgraph: --workers > 1 needs REDIS_URL (processes share the queue, locks "
            "and rate limits through Redis)",
            file=sys.stderr,
        )
        return 2
    if settings.production and settings.whatsapp_app_secret is None:
        print("agentgraph: WHATSAPP_APP_SECRET is required in production mode", file=sys.stderr)
        return 2
    if settings.production and settings.jwt_secret is None:
        print(
            "agentgraph: AGENTGRAPH_JWT_SECRET is required in production mode (it signs "
            "operator tokens)",
            file=sys.stderr,
        )
        return 2
    import uvicorn

    configure_logging(level=logging.INFO)
    # An import string, so each worker process builds its own app (and pools).
    uvicorn.run(
        "server.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        # Request lines carry query strings and phone numbers: masked like every line.
        log_config=uvicorn_log_config(),
    )
    return 0


def _run(main: Coroutine[Any, Any, None]) -> None:
    try:
        import uvloop
    except ImportError:  # optional: the standard event loop works, a little slower
        asyncio.run(main)
    else:
        uvloop.run(main)


async def serve_worker(settings: Settings, *, model: BaseChatModel | None = None) -> None:
    """Run one worker process until SIGTERM or SIGINT; `model` overrides the configured one."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with (
        open_otel(settings),
        open_assistant(settings, model=model) as assistant,
        open_whatsapp_channel(settings, assistant) as channel,
        consuming(channel),
    ):
        settle_heap()
        log.info("worker ready")
        await stop.wait()


async def _db_upgrade(settings: Settings) -> int:
    async with open_persistence(settings, setup=True) as persistence:
        version = await persistence.domain.schema_version()
    print(f"database up to date ({persistence.engine}, schema version {version})")
    return 0


async def _demo_seed(settings: Settings) -> int:
    from agentgraph.domain.seed import seed_demo

    async with open_persistence(settings) as persistence:
        summary = await seed_demo(persistence.domain)
        print("demo data ready: " + ", ".join(f"{k}={v}" for k, v in summary.items()))
        await print_demo_operators(persistence.domain)
    return 0


async def _agents(settings: Settings, args: argparse.Namespace) -> int:
    async with open_domain(settings) as domain:
        try:
            if args.agents_command == "list":
                for a in await domain.agents.all(args.tenant):
                    scope = a.tenant or "global"
                    print(f"{a.id}\t{a.agent_type}\t{a.status}\tv{a.version}\t{scope}\t{a.name}")
                return 0
            agent = await domain.agents.set_status(
                args.agent_id, args.status, actor=args.actor, message=args.message,
                tenant=args.tenant,
            )  # fmt: skip
        except DomainError as exc:
            print(f"agentgraph: {exc.user_message}", file=sys.stderr)
            return 2
    print(f"agent {agent.id} ({agent.name}) is {agent.status}, version {agent.version}")
    return 0


Send = Callable[[str], Awaitable[TurnResult]]


async def _chat(settings: Settings, args: argparse.Namespace) -> int:
    try:
        user = normalize_phone(args.user)
    except DomainError as exc:
        print(f"agentgraph: --user: {exc.user_message}", file=sys.stderr)
        return 2
    interactive = sys.stdin.isatty() and not args.jsonl
    # The one place a CLI conversation's tenant is chosen.
    tenant = args.tenant or settings.default_tenant
    async with open_assistant(settings) as assistant:
        try:
            await assistant.persistence.domain.tenants.get(tenant)
        except TenantNotFound as exc:
            print(
                f"agentgraph: --tenant: {exc.user_message} Known tenants: "
                f"{await _tenant_list(assistant.persistence.domain)}. "
                "(`agentgraph demo seed` creates easymo and acme.)",
                file=sys.stderr,
            )
            return 2

        def send(text: str) -> Awaitable[TurnResult]:
            return assistant.send(
                text, user=user, tenant=tenant, customer_email=args.email, staff=args.staff
            )

        if interactive:
            await _interactive(send)
        else:
            await _piped(send, args.jsonl, sys.stdin, sys.stdout)
    return 0


async def _tenant_list(domain: Domain) -> str:
    names = [t.slug for t in await domain.tenants.all()]
    return ", ".join(names) if names else "none"


async def _piped(send: Send, jsonl: bool, src: TextIO, out: TextIO) -> None:
    for raw in src:
        text = raw.strip()
        if not text:
            continue
        result = await send(text)
        if jsonl:
            out.write(json.dumps(result.as_json(), ensure_ascii=False) + "\n")
        else:
            for reply in result.replies:
                out.write(reply + "\n")
        out.flush()


async def _interactive(send: Send) -> None:
    print("agentgraph chat. Type a message; Ctrl-D to quit.")
    loop = asyncio.get_running_loop()
    while True:
        try:
            text = await loop.run_in_executor(None, input, "you> ")
        except EOFError:
            print()
            return
        if not text.strip():
            continue
        _print_turn(await send(text.strip()))


def _print_turn(result: TurnResult) -> None:
    for reply in result.replies:
        print(f"{result.agent}> {reply}")
    if result.awaiting_confirmation:
        print("   (answer yes or no)")
    if result.escalated:
        print("   (a human agent has this conversation)")


if __name__ == "__main__":
    sys.exit(main())
