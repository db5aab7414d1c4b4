"""The reference business backend: profiles, wallets, trips, bookings, support, accounts.

Import from here: `Domain` (opened for a configuration by
`agentgraph.persistence.open_domain`), the record types from `models`, every
`DomainError` subclass, `normalize_phone` and `mask_phone`. Statements against the
business tables are written in this package only; the WhatsApp runtime's own tables
(inbox, outbox, delivery statuses) are written by `agentgraph.runtime` through this
package's `Database`, and LangGraph's tables only by `agentgraph.checkpoints`. The
contract of each call is in the docstrings of the repository modules; the agent
registry (`domain.agents`, its records and errors) in `agents`, `agent_records`,
`agent_errors` and the assistant's cached view of it in `agent_view`.
"""

from agentgraph.domain.agent_errors import (
    AgentNotFound,
    AgentVersionConflict,
    DuplicateAgentName,
    InvalidAgentConfig,
    ModelNotAllowed,
    UnknownTool,
)
from agentgraph.domain.agent_records import Agent, AgentChange, ModelConfig, RegistryRules
from agentgraph.domain.backend import Domain
from agentgraph.domain.errors import (
    AlreadyCancelled,
    BookingNotFound,
    CustomerNotFound,
    DomainError,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    InvalidLanguage,
    InvalidName,
    InvalidPhone,
    InvalidPriority,
    InvalidSeats,
    InvalidTicketStatus,
    LimitExceeded,
    NotEnoughSeats,
    ProfileNotFound,
    RecipientNotFound,
    SelfTransfer,
    TenantNotFound,
    TicketNotFound,
    TripDeparted,
    TripNotFound,
    UnknownCity,
)
from agentgraph.domain.models import (
    Article,
    Booking,
    Customer,
    Invoice,
    LedgerEntry,
    Profile,
    Subscription,
    Tenant,
    Ticket,
    Transfer,
    Trip,
)
from agentgraph.domain.phones import mask_phone, normalize_phone
from agentgraph.domain.seed import seed_demo
from agentgraph.domain.trips import normalize_city

__all__ = [
    "Agent",
    "AgentChange",
    "AgentNotFound",
    "AgentVersionConflict",
    "AlreadyCancelled",
    "Article",
    "Booking",
    "BookingNotFound",
    "Customer",
    "CustomerNotFound",
    "Domain",
    "DomainError",
    "DuplicateAgentName",
    "IdempotencyConflict",
    "InsufficientFunds",
    "InvalidAgentConfig",
    "InvalidAmount",
    "InvalidLanguage",
    "InvalidName",
    "InvalidPhone",
    "InvalidPriority",
    "InvalidSeats",
    "InvalidTicketStatus",
    "Invoice",
    "LedgerEntry",
    "LimitExceeded",
    "ModelConfig",
    "ModelNotAllowed",
    "NotEnoughSeats",
    "Profile",
    "ProfileNotFound",
    "RecipientNotFound",
    "RegistryRules",
    "SelfTransfer",
    "Subscription",
    "Tenant",
    "TenantNotFound",
    "Ticket",
    "TicketNotFound",
    "Transfer",
    "Trip",
    "TripDeparted",
    "TripNotFound",
    "UnknownCity",
    "UnknownTool",
    "mask_phone",
    "normalize_city",
    "normalize_phone",
    "seed_demo",
]
