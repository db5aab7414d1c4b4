"""Transfer refusals a user gets before being asked for a yes (no question is asked
for a transfer that cannot happen): the daily limit here; amounts and recipients in
test_tools.py. Tools are called the way the graph's tool node calls them; a tool
that asked for a yes would raise outside a graph, so a plain answer proves none was
asked."""

from __future__ import annotations

from agentgraph.domain import seed_demo
from agentgraph.persistence import open_domain
from agentgraph.tools import ToolServices
from tests.integration.test_tools import ALICE, BOB, call


async def test_the_daily_limit_is_judged_before_asking(sqlite_settings):
    settings = sqlite_settings.model_copy(update={"daily_transfer_limit": 10_000})
    async with open_domain(settings) as domain:
        await seed_demo(domain)
        await domain.wallets.transfer("easymo", ALICE, BOB, 8_000, "earlier-today")
        services = (ToolServices(domain=domain, settings=settings), domain)
        answer = await call(services, "transfer_money", {"recipient_phone": BOB, "amount": 5_000})
        assert answer == (
            "This transfer would go over your daily limit of 10,000 RWF. "
            "You can still send 2,000 RWF today."
        )
        assert await domain.wallets.balance("easymo", ALICE) == 42_000
