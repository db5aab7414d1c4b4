"""Pseudonyms on both engines: a deployment's key is made once and kept, the mapping
back to the phone number is in the database, and no thread id carries a number."""

from __future__ import annotations

import asyncio

from pydantic import SecretStr

from agentgraph.domain.pseudonyms import pseudonym
from agentgraph.persistence import open_domain
from agentgraph.runtime.channel import open_whatsapp_channel
from agentgraph.whatsapp.payloads import parse_webhook
from tests.support.whatsapp import USER, text_message, webhook

ALICE = "+250788000001"


async def test_a_pseudonym_is_stable_across_restarts_and_maps_back(any_settings):
    async with open_domain(any_settings) as domain:
        name = await domain.pseudonyms.of("easymo", ALICE)
        other_tenant = await domain.pseudonyms.of("acme", ALICE)
    async with open_domain(any_settings) as reopened:
        # The key made on first use was kept: the same user has the same pseudonym.
        assert await reopened.pseudonyms.of("easymo", ALICE) == name
        assert await reopened.pseudonyms.user_of("easymo", name) == ALICE
        assert await reopened.pseudonyms.user_of("acme", other_tenant) == ALICE
        # A pseudonym answers only for the tenant it was made in.
        assert await reopened.pseudonyms.user_of("acme", name) is None
        assert other_tenant != name
        rows = await reopened.db.fetchval("SELECT COUNT(*) FROM app_keys")
        assert int(rows) == 1


async def test_processes_starting_together_agree_on_one_key(any_settings):
    async with open_domain(any_settings) as first, open_domain(any_settings) as second:
        names = await asyncio.gather(
            first.pseudonyms.of("easymo", ALICE), second.pseudonyms.of("easymo", ALICE)
        )
        assert names[0] == names[1]
        assert int(await first.db.fetchval("SELECT COUNT(*) FROM app_keys")) == 1


async def test_a_configured_key_is_used_instead_of_the_stored_one(sqlite_settings):
    settings = sqlite_settings.model_copy(update={"pseudonym_key": SecretStr("shared-key")})
    async with open_domain(settings) as domain:
        assert await domain.pseudonyms.of("easymo", ALICE) == pseudonym(
            b"shared-key", "easymo", ALICE
        )
        assert int(await domain.db.fetchval("SELECT COUNT(*) FROM app_keys")) == 0


async def test_no_checkpoint_thread_id_carries_a_phone_number(any_settings, open_seeded):
    async with open_seeded(any_settings) as assistant:
        await assistant.send("what is my balance", user=ALICE, tenant="easymo")
        async with open_whatsapp_channel(any_settings, assistant) as channel:
            await channel.ingest(parse_webhook(webhook([text_message("hi", wa_id=USER)])))
            thread = await assistant.thread_id("whatsapp", "easymo", "+" + USER)
            await channel.process_thread(thread)
            replies = await channel.outbox.recent(thread_id=thread)
        saver = assistant.persistence.checkpointer
        threads = {t.config["configurable"]["thread_id"] async for t in saver.alist(None)}
        cli = await assistant.persistence.domain.pseudonyms.of("easymo", ALICE)
        wa = await assistant.persistence.domain.pseudonyms.of("easymo", "+" + USER)
    assert len(replies) == 1 and replies[0].recipient == USER
    assert threads == {f"chat:easymo:{cli}", f"wa:easymo:{wa}"}
