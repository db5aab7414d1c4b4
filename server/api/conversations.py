"""`/api/v1/conversations/{id}`: a person takes an escalated conversation, answers, hands back.

`{id}` is the conversation id the inbox shows (its thread id). Roles: agent,
tenant_admin, super_admin; a conversation of another tenant is a 404 like an unknown
one. `claim`: one owner at a time (a second claim is a 409 naming the owner; of two
at once exactly one wins); `unclaim`: back to the queue (admins may take anyone's).
`messages` `{"text"}`: the reply goes to the customer through the assistant's
outbox (exactly once, retried, statuses recorded) and into the conversation's
history as said by a human; the answer says how delivery went. `release`
`{"note"?}`: the assistant takes over with the exchange (and the note) in its
history, and the customer is told. Refusals (409, naming why): not escalated,
claimed by someone else, not claimed, released, WhatsApp's 24-hour window closed
with no template. Empty or over-long text: 422. Nothing reaches the customer then.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from agentgraph.operators import Principal
from agentgraph.operators.inbox import INBOX_ROLES, inbox_actor
from agentgraph.runtime.human import HumanDesk
from server.api.deps import OperatorRoute, errors, require
from server.api.inbox_schemas import Item, ReleaseCreate, ReleaseOut, ReplyCreate, ReplyOut

router = APIRouter(prefix="/conversations", tags=["conversations"], route_class=OperatorRoute)

InboxPrincipal = Annotated[Principal, Depends(require(*INBOX_ROLES))]
ConversationId = Annotated[str, Path(min_length=3, max_length=200, pattern=r"^[A-Za-z0-9_.:-]+$")]


def _desk(request: Request) -> HumanDesk:
    return HumanDesk(request.app.state.whatsapp)


DeskDep = Annotated[HumanDesk, Depends(_desk)]


@router.post("/{conversation_id}/claim", response_model=Item, responses=errors(401, 403, 404, 409))
async def claim(conversation_id: ConversationId, principal: InboxPrincipal, desk: DeskDep) -> Item:
    """Take the escalated conversation (claiming one you hold returns it)."""
    item = await desk.claim(inbox_actor(principal), conversation_id)
    return Item.of(item, desk.inbox.now())


@router.post(
    "/{conversation_id}/unclaim", response_model=Item, responses=errors(401, 403, 404, 409)
)
async def unclaim(
    conversation_id: ConversationId, principal: InboxPrincipal, desk: DeskDep
) -> Item:
    """Put the conversation back in the inbox queue."""
    item = await desk.unclaim(inbox_actor(principal), conversation_id)
    return Item.of(item, desk.inbox.now())


@router.post(
    "/{conversation_id}/messages",
    status_code=201,
    response_model=ReplyOut,
    responses=errors(401, 403, 404, 409),
)
async def reply(
    conversation_id: ConversationId, body: ReplyCreate, principal: InboxPrincipal, desk: DeskDep
) -> ReplyOut:
    """Send a person's reply to the customer (you must hold the conversation)."""
    sent = await desk.reply(inbox_actor(principal), conversation_id, body.text)
    return ReplyOut.of(sent, desk.inbox.now())


@router.post(
    "/{conversation_id}/release", response_model=ReleaseOut, responses=errors(401, 403, 404, 409)
)
async def release(
    conversation_id: ConversationId,
    principal: InboxPrincipal,
    desk: DeskDep,
    body: ReleaseCreate | None = None,
) -> ReleaseOut:
    """Hand the conversation back to the assistant."""
    note = body.note if body is not None else None
    item, told = await desk.release(inbox_actor(principal), conversation_id, note)
    return ReleaseOut(item=Item.of(item, desk.inbox.now()), customer_notified=told)
