"""`agentgraph inbox list|reply|release` as a support agent runs them, on a conversation a
WhatsApp customer escalated through the real app (dev mode: replies stay in the outbox);
and the repeated-failures policy that hands a conversation over by itself."""

from __future__ import annotations

from pydantic import SecretStr

from agentgraph.config import Settings
from agentgraph.runtime.outbox import Outbox
from tests.e2e.test_cli import run_cli
from tests.e2e.test_human_inbox import ACK, _seed, running
from tests.support.chat_fakes import FailingModel
from tests.support.whatsapp import (
    USER,
    channel_settings,
    post_signed,
    running_app,
    settle,
    text_message,
    webhook,
)


async def test_an_agent_answers_and_releases_from_the_terminal(sqlite_settings: Settings):
    settings = channel_settings(sqlite_settings, None)
    async with running(settings) as desk:
        await desk.say("I want to talk to a human please")
        conversation = await desk.channel.assistant.thread_id("whatsapp", "easymo", "+" + USER)
    data = settings.data_dir
    env = {"WHATSAPP_PHONE_NUMBER_ID": settings.whatsapp_phone_number_id or ""}

    listed = run_cli(["inbox", "list"], data, **env)
    assert listed.returncode == 0, listed.stderr
    [line] = listed.stdout.splitlines()
    assert line.startswith(f"{conversation}  waiting  medium -")
    assert "window open" in line and line.endswith("I want to talk to a human please")

    viewer = run_cli(["inbox", "reply", conversation, "--as", "viewer@easymo.test"], data, **env)
    assert viewer.returncode == 2
    assert "viewer@easymo.test is not an active agent" in viewer.stderr

    replied = run_cli(
        ["inbox", "reply", conversation, "--as", "agent@easymo.test"],
        data,
        "Hello from the support desk.\n",
        **env,
    )
    assert replied.returncode == 0, replied.stderr
    assert replied.stdout.strip().endswith("as text: dev")
    taken = run_cli(
        ["inbox", "reply", conversation, "--as", "admin@easymo.test", "--text", "me too"],
        data,
        **env,
    )
    assert taken.returncode == 2
    assert "claimed by agent@easymo.test" in taken.stderr

    released = run_cli(
        ["inbox", "release", conversation, "--as", "agent@easymo.test", "--note", "done"],
        data,
        **env,
    )
    assert released.returncode == 0, released.stderr
    assert released.stdout.strip() == f"released {conversation}; customer told: yes"
    assert run_cli(["inbox", "list"], data, **env).stdout.strip() == "the inbox is empty"

    async with running_app(settings, None) as (_, channel):
        rows = await Outbox(channel.assistant.persistence.domain.db).recent(thread_id=conversation)
    texts = [r.payload["text"]["body"] for r in rows]
    assert texts[-3:] == [ACK, "Hello from the support desk.", texts[-1]]
    assert texts.count("Hello from the support desk.") == 1 and "me too" not in texts
    assert [r.status for r in rows[-2:]] == ["dev", "dev"]


async def test_repeated_failures_hand_the_conversation_to_a_person(sqlite_settings: Settings):
    settings = channel_settings(sqlite_settings, None, escalate_after_failures=2)
    settings = settings.model_copy(update={"whatsapp_access_token": None})
    assert isinstance(settings.whatsapp_app_secret, SecretStr)
    await _seed(settings)
    model = FailingModel(error=RuntimeError("model down"))
    async with running_app(settings, model) as (http, channel):
        for text in ("hi", "hello?", "anyone?"):
            await post_signed(http, webhook([text_message(text)]))
            await settle(channel)
        conversation = await channel.assistant.thread_id("whatsapp", "easymo", "+" + USER)
        rows = await channel.outbox.recent(thread_id=conversation)
        [item] = await channel.assistant.persistence.domain.human_inbox.items("easymo")
    texts = [r.payload["text"]["body"] for r in rows]
    assert texts == [
        "Sorry, something went wrong on our side. Please try again in a moment.",
        ACK.replace("24 hours", "4 hours"),
    ]
    assert (item.source, item.priority, item.customer_messages) == ("policy", "high", 2)
    assert item.reason == "The assistant failed 2 times in a row."
