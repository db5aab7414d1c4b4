"""Stub tools with the contract's names and arguments (docs/architecture.md), each
agent's tool set, and helpers to ask the offline model as one of the agents. The
model only sees the stubs' schemas."""

from datetime import UTC, date, datetime

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.tools import BaseTool, tool

from agentgraph.clock import KIGALI
from agentgraph.handoff import HANDOFF_DESTINATION
from agentgraph.models.offline import OfflineChatModel
from agentgraph.models.offline.tables import load_tables


@tool
def check_balance() -> str:
    """Show the wallet balance."""
    return ""


@tool
def transaction_history(limit: int = 5) -> str:
    """Recent wallet transactions."""
    return ""


@tool
def transfer_money(recipient_phone: str, amount: int, note: str | None = None) -> str:
    """Send money to a phone number."""
    return ""


@tool
def search_trips(origin: str, destination: str, date: str | None = None) -> str:
    """Find bus trips."""
    return ""


@tool
def check_availability(trip_id: int) -> str:
    """Seats left on a trip."""
    return ""


@tool
def create_booking(trip_id: int, seats: int = 1) -> str:
    """Book seats on a trip."""
    return ""


@tool
def cancel_booking(booking_id: int) -> str:
    """Cancel a booking."""
    return ""


@tool
def list_bookings() -> str:
    """The user's bookings."""
    return ""


@tool
def search_help_articles(query: str) -> str:
    """Search the help centre."""
    return ""


@tool
def create_ticket(subject: str, description: str, priority: str | None = None) -> str:
    """Open a support ticket."""
    return ""


@tool
def ticket_status(ticket_id: int) -> str:
    """Status of a ticket."""
    return ""


@tool
def get_customer_info(customer_email: str) -> str:
    """Customer record by email."""
    return ""


@tool
def get_subscription_details(customer_email: str) -> str:
    """Subscriptions by email."""
    return ""


@tool
def list_invoices(customer_email: str) -> str:
    """Invoices by email."""
    return ""


@tool
def get_user_profile() -> str:
    """The user's profile."""
    return ""


@tool
def update_preferences(language: str | None = None, name: str | None = None) -> str:
    """Change language or name."""
    return ""


@tool
def escalate_to_human(reason: str) -> str:
    """Hand the user to a human."""
    return ""


def _handoff(agent: str) -> BaseTool:
    def handoff(reason: str | None = None) -> str:
        return f"Transferred to {agent}."

    handoff.__doc__ = f"Hand the conversation to {agent}."
    made = tool(f"transfer_to_{agent}")(handoff)
    made.metadata = {HANDOFF_DESTINATION: agent}
    return made


HANDOFFS = {a: _handoff(a) for a in ("triage", "booking", "payment", "support")}
COMMON = [get_user_profile, update_preferences, escalate_to_human]
TOOLS: dict[str, list[BaseTool]] = {
    "triage": [HANDOFFS["booking"], HANDOFFS["payment"], HANDOFFS["support"]],
    "payment": [
        check_balance,
        transaction_history,
        transfer_money,
        *COMMON,
        HANDOFFS["triage"],
        HANDOFFS["booking"],
        HANDOFFS["support"],
    ],
    "booking": [
        search_trips,
        check_availability,
        create_booking,
        cancel_booking,
        list_bookings,
        check_balance,
        *COMMON,
        HANDOFFS["triage"],
        HANDOFFS["payment"],
        HANDOFFS["support"],
    ],
    "support": [
        search_help_articles,
        create_ticket,
        ticket_status,
        get_customer_info,
        get_subscription_details,
        list_invoices,
        *COMMON,
        HANDOFFS["triage"],
        HANDOFFS["booking"],
        HANDOFFS["payment"],
    ],
}
TABLES = load_tables()


def model_for(agent: str) -> OfflineChatModel:
    return OfflineChatModel().bind_tools(TOOLS[agent])


def ask(agent: str, *messages: BaseMessage | str) -> AIMessage:
    history = [HumanMessage(m) if isinstance(m, str) else m for m in messages]
    return model_for(agent).invoke([SystemMessage("You are helpful."), *history])


def only_call(message: AIMessage) -> tuple[str, dict]:
    assert not message.content, message.content
    assert len(message.tool_calls) == 1, message.tool_calls
    call = message.tool_calls[0]
    assert call["id"]
    return call["name"], call["args"]


def reply(key: str, lang: str = "en") -> str:
    return TABLES.reply(key, lang)


def kigali_today() -> date:
    return datetime.now(UTC).astimezone(KIGALI).date()


def christmas() -> str:
    today = kigali_today()
    day = date(today.year, 12, 25)
    return (day if day >= today else date(today.year + 1, 12, 25)).isoformat()
