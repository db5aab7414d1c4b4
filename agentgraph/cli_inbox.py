"""`agentgraph inbox ...`: the human inbox from a terminal.

    agentgraph inbox list [--tenant T] [--status waiting|claimed|released]
    agentgraph inbox reply CONVERSATION --as EMAIL [--text TEXT]   (else stdin)
    agentgraph inbox release CONVERSATION --as EMAIL [--note NOTE]

`list` prints one line per item: conversation id, status, priority, owner, SLA due
time, whether WhatsApp's 24-hour window is open, and the reason. `reply` and
`release` act as the operator `--as` names (an active agent, tenant admin or super
admin), with the same rules and delivery path as the HTTP API; `reply` first claims
a conversation nobody holds. A refusal (claimed by someone else, not escalated,
window closed without a template, bad text) exits with status 2 and says why.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from agentgraph.config import Settings
from agentgraph.domain import Domain, DomainError
from agentgraph.domain.inbox_records import InboxActor
from agentgraph.operators import Principal
from agentgraph.operators.inbox import INBOX_ROLES, InboxDesk, inbox_actor
from agentgraph.persistence import open_domain
from agentgraph.runtime.assistant import open_assistant
from agentgraph.runtime.channel import open_whatsapp_channel
from agentgraph.runtime.human import HumanDesk, InvalidReply

__all__ = ["add_inbox_parser", "run_inbox"]


def add_inbox_parser(sub: Any) -> None:
    """Add the `inbox` command and its subcommands to the CLI's subparsers."""
    inbox = sub.add_parser("inbox", help="conversations handed to a person")
    inbox_sub = inbox.add_subparsers(dest="inbox_command", required=True)
    listing = inbox_sub.add_parser("list", help="escalated conversations, most pressing first")
    listing.add_argument("--tenant", default=None, help="one tenant (default: all)")
    listing.add_argument("--status", default=None, choices=("waiting", "claimed", "released"))
    reply = inbox_sub.add_parser("reply", help="answer the customer as a person")
    reply.add_argument("conversation", help="the conversation id `inbox list` shows")
    reply.add_argument("--as", dest="operator", required=True, help="your operator email")
    reply.add_argument("--text", default=None, help="the reply (default: read stdin)")
    release = inbox_sub.add_parser("release", help="hand the conversation back to the assistant")
    release.add_argument("conversation", help="the conversation id `inbox list` shows")
    release.add_argument("--as", dest="operator", required=True, help="your operator email")
    release.add_argument("--note", default=None, help="a note the assistant will read")


async def run_inbox(settings: Settings, args: argparse.Namespace) -> int:
    """Run one `inbox` subcommand; 0 on success, 2 on a refusal or bad input."""
    try:
        if args.inbox_command == "list":
            async with open_domain(settings) as domain:
                return await _list(domain, args)
        async with (
            open_assistant(settings) as assistant,
            open_whatsapp_channel(settings, assistant) as channel,
        ):
            actor = await _actor(assistant.persistence.domain, args.operator)
            desk = HumanDesk(channel)
            if args.inbox_command == "reply":
                return await _reply(desk, actor, args)
            item, told = await desk.release(actor, args.conversation, args.note)
            print(f"released {item.thread_id}; customer told: {'yes' if told else 'no'}")
            return 0
    except (DomainError, InvalidReply, LookupError) as exc:
        message = exc.user_message if isinstance(exc, DomainError) else str(exc)
        print(f"agentgraph: {message}", file=sys.stderr)
        return 2


async def _actor(domain: Domain, email: str) -> InboxActor:
    found = await domain.operators.credentials(email.strip().lower())
    if found is None or not found[0].active or found[0].role not in INBOX_ROLES:
        raise LookupError(f"{email} is not an active agent, tenant admin or super admin")
    operator = found[0]
    principal = Principal(
        kind="operator",
        id=operator.id,
        role=operator.role,  # type: ignore[arg-type]  # checked against INBOX_ROLES above
        tenant=operator.tenant,
        email=operator.email,
    )
    return inbox_actor(principal)


async def _list(domain: Domain, args: argparse.Namespace) -> int:
    principal = Principal(kind="operator", id=0, role="super_admin", tenant=None)
    items = await InboxDesk(domain).items(principal, status=args.status, limit=100)
    now = domain.human_inbox.now()
    for item in items:
        if args.tenant and item.tenant != args.tenant:
            continue
        owner = item.assignee_name or "-"
        window = "open" if item.window_open(now) else "closed"
        due = item.sla_due_at.strftime("%Y-%m-%d %H:%M UTC")
        print(
            f"{item.thread_id}  {item.status:<8} {item.priority:<6} {owner:<24} "
            f"due {due}  window {window}  {item.reason}"
        )
    if not items:
        print("the inbox is empty")
    return 0


async def _reply(desk: HumanDesk, actor: InboxActor, args: argparse.Namespace) -> int:
    text = args.text if args.text is not None else sys.stdin.read()
    latest = await desk.inbox.latest(actor.scope, args.conversation)
    if latest is not None and latest.status == "waiting":
        await desk.claim(actor, args.conversation)
    sent = await desk.reply(actor, args.conversation, text)
    detail = f" (error {sent.error_code}: {sent.error})" if sent.status == "failed" else ""
    print(f"reply {sent.message_id} as {sent.kind}: {sent.status}{detail}")
    return 0 if sent.status != "failed" else 1
