"""The demo data set as constants: users, routes, timetable, help articles, customers.

`seed.py` loads these; tests and docs may read them (for example `DEMO_USERS` for
the phone numbers that exist after `agentgraph demo seed`). Changing a value here
changes what a fresh seed creates; rows already seeded are never rewritten.
"""

from __future__ import annotations

from datetime import time
from typing import NamedTuple

EASYMO = "easymo"
ACME = "acme"
TENANTS = {EASYMO: "easyMO Rwanda", ACME: "Acme Cloud"}

DEMO_BALANCE = 50_000

# (phone, name, language)
DEMO_USERS: tuple[tuple[str, str, str], ...] = (
    ("+250788000001", "Aline Uwase", "en"),
    ("+250788000002", "Jean Habimana", "en"),
    ("+250788000003", "Grace Mukamana", "en"),
    ("+250788000004", "Eric Niyonzima", "fr"),
    ("+250788000005", "Diane Ingabire", "en"),
    ("+250788000006", "Patrick Nshimiyimana", "en"),
    ("+250788000007", "Claudine Uwimana", "fr"),
    ("+250788000008", "Olivier Mugisha", "en"),
    ("+250788000009", "Sandrine Umutoni", "en"),
    ("+250788000010", "Emmanuel Hakizimana", "en"),
)

TIMETABLE_DAYS = 7
DEPARTURES_LOCAL = (time(7, 0), time(12, 0), time(17, 0))
SEATS_PER_TRIP = 30

# Fare in RWF for each unordered pair of cities (same price both ways).
FARES: dict[frozenset[str], int] = {
    frozenset({"Kigali", "Huye"}): 3_000,
    frozenset({"Kigali", "Musanze"}): 2_500,
    frozenset({"Kigali", "Rubavu"}): 3_500,
    frozenset({"Huye", "Musanze"}): 5_000,
    frozenset({"Huye", "Rubavu"}): 4_500,
    frozenset({"Musanze", "Rubavu"}): 2_000,
}


class ArticleSeed(NamedTuple):
    """A help article to seed; (tenant, slug) is its natural key."""

    tenant: str
    slug: str
    title: str
    body: str
    tags: tuple[str, ...]


ARTICLES: tuple[ArticleSeed, ...] = (
    ArticleSeed(
        EASYMO,
        "check-wallet-balance",
        "Checking your wallet balance",
        "Ask the assistant 'what is my balance' at any time. Your wallet balance is shown "
        "in Rwandan francs (RWF) and includes every top-up, transfer, booking and refund.",
        ("wallet", "balance"),
    ),
    ArticleSeed(
        EASYMO,
        "top-up-wallet",
        "Topping up your wallet",
        "You can add money to your wallet with MTN MoMo or Airtel Money from the easyMO "
        "menu. Top-ups usually arrive within a minute; if one takes longer than an hour, "
        "open a ticket with the MoMo transaction id.",
        ("wallet", "top-up", "deposit", "momo"),
    ),
    ArticleSeed(
        EASYMO,
        "send-money",
        "Sending money to another user",
        "To send money, tell the assistant the recipient's phone number and the amount, "
        "for example 'send 5000 to 0788123456'. You will be asked to confirm before any "
        "money moves. The recipient must already use easyMO.",
        ("transfer", "send", "money", "payment"),
    ),
    ArticleSeed(
        EASYMO,
        "transfer-limits",
        "Transfer limits",
        "A single transfer can be at most 500,000 RWF, and you can send at most 500,000 "
        "RWF per day in total. The daily limit resets at midnight UTC.",
        ("transfer", "limit", "daily"),
    ),
    ArticleSeed(
        EASYMO,
        "transfer-failed",
        "What to do if a transfer failed",
        "If a transfer failed, no money left your wallet. Check that you have enough "
        "balance, that the recipient number is correct and that you are within your "
        "limits, then try again. Money that left your wallet but never arrived is a "
        "support case: open a ticket and we will trace it.",
        ("transfer", "failed", "missing", "money"),
    ),
    ArticleSeed(
        EASYMO,
        "book-bus-ticket",
        "Booking a bus ticket",
        "Search trips by origin, destination and date, for example 'bus from Kigali to "
        "Huye tomorrow'. Pick a departure and the number of seats; the fare is paid from "
        "your wallet and your seats are reserved at once.",
        ("booking", "bus", "trip", "ticket", "seat"),
    ),
    ArticleSeed(
        EASYMO,
        "cancel-booking",
        "Cancelling a booking",
        "You can cancel a booking any time before the bus departs. Ask the assistant to "
        "cancel and confirm; the seats are released and the fare is refunded to your "
        "wallet. Departed trips cannot be cancelled.",
        ("booking", "cancel", "cancellation"),
    ),
    ArticleSeed(
        EASYMO,
        "booking-refunds",
        "Refunds for cancelled bookings",
        "When you cancel a booking, the full fare goes back to your easyMO wallet "
        "immediately. Each booking is refunded once. Refunds to MoMo are not possible; "
        "send the money on from your wallet instead.",
        ("refund", "booking", "cancel", "wallet"),
    ),
    ArticleSeed(
        EASYMO,
        "change-language",
        "Changing your language",
        "The assistant speaks English and French. Say 'reply in French' or 'parle "
        "français' and your preference is saved for future conversations.",
        ("account", "language", "settings", "profile"),
    ),
    ArticleSeed(
        EASYMO,
        "account-security",
        "Keeping your account safe",
        "easyMO staff will never ask for your PIN or a verification code. If you see a "
        "transfer you did not make, or someone asks you to send money urgently, report "
        "fraud immediately: we treat it as urgent.",
        ("account", "security", "fraud", "scam"),
    ),
    ArticleSeed(
        EASYMO,
        "talk-to-a-person",
        "Talking to a person",
        "Type 'human' or 'agent' at any time and a member of our support team will take "
        "over the conversation. Urgent cases are answered within one hour.",
        ("support", "human", "agent", "escalation"),
    ),
    ArticleSeed(
        ACME,
        "how-billing-works",
        "How billing works",
        "Acme bills subscriptions monthly in advance on the day your plan started. "
        "Invoices are emailed to the billing contact and listed under Settings > Billing.",
        ("billing", "invoice", "subscription"),
    ),
    ArticleSeed(
        ACME,
        "update-payment-method",
        "Updating your payment method",
        "Go to Settings > Billing > Payment method to add a new card. The new card is "
        "used for the next invoice; open invoices can be paid from the same page.",
        ("billing", "payment", "card"),
    ),
    ArticleSeed(
        ACME,
        "download-invoices",
        "Downloading invoices",
        "Every invoice can be downloaded as a PDF from Settings > Billing > Invoices. "
        "Invoices show the number, amount, status and due date.",
        ("billing", "invoice", "pdf"),
    ),
    ArticleSeed(
        ACME,
        "overdue-invoices",
        "Overdue invoices and failed payments",
        "If a payment fails, the invoice stays open and becomes overdue after its due "
        "date. We retry the card three times; after that the account is limited until "
        "the overdue invoice is paid.",
        ("billing", "overdue", "payment", "failed"),
    ),
    ArticleSeed(
        ACME,
        "export-data",
        "Exporting your data",
        "Admins can export all workspace data as CSV or JSON from Settings > Data > "
        "Export. Large exports are prepared in the background and emailed as a link.",
        ("data", "export", "csv", "json"),
    ),
    ArticleSeed(
        ACME,
        "reset-password",
        "Resetting your password",
        "Click 'Forgot password' on the login page and follow the emailed link within 30 "
        "minutes. After five failed login attempts the account is locked for 15 minutes.",
        ("password", "login", "account", "locked"),
    ),
    ArticleSeed(
        ACME,
        "api-keys",
        "Creating and rotating API keys",
        "Create API keys under Settings > Developers. Each key is shown once; store it "
        "safely. Rotate a key by creating a new one, deploying it, then revoking the old.",
        ("api", "keys", "developers", "security"),
    ),
    ArticleSeed(
        ACME,
        "change-plan",
        "Upgrading or downgrading your plan",
        "Change plans under Settings > Billing > Plan. Upgrades take effect immediately "
        "and are prorated; downgrades apply from the next billing period.",
        ("plan", "subscription", "upgrade", "downgrade", "billing"),
    ),
    ArticleSeed(
        ACME,
        "cancel-subscription",
        "Cancelling your subscription",
        "Cancel under Settings > Billing > Plan. You keep access until the end of the "
        "paid period; no refund is made for the remaining days.",
        ("subscription", "cancel", "billing", "refund"),
    ),
)


class CustomerSeed(NamedTuple):
    """An `acme` customer to seed; the email is its natural key."""

    email: str
    name: str
    company: str


class SubscriptionSeed(NamedTuple):
    """A subscription to seed; offsets are days from the customer's creation date and an
    `end_offset_days` of None means open-ended."""

    email: str
    plan: str
    status: str
    amount: int
    currency: str
    start_offset_days: int
    end_offset_days: int | None


class InvoiceSeed(NamedTuple):
    """An invoice to seed, keyed by `number`; offsets are days from the customer's creation
    date and a `paid_offset_days` of None means unpaid."""

    email: str
    number: str
    amount: int
    currency: str
    status: str
    issued_offset_days: int
    due_offset_days: int
    paid_offset_days: int | None


CUSTOMERS: tuple[CustomerSeed, ...] = (
    CustomerSeed("alice@acme.test", "Alice Martin", "Martin Analytics"),
    CustomerSeed("bob@acme.test", "Bob Keller", "Keller & Sons"),
    CustomerSeed("carol@acme.test", "Carol Diaz", "Diaz Studio"),
    CustomerSeed("dave@acme.test", "Dave Okafor", "Okafor Logistics"),
)

# Offsets are days from the customer's creation date, so re-seeding later finds the
# same rows instead of adding shifted copies.
SUBSCRIPTIONS: tuple[SubscriptionSeed, ...] = (
    SubscriptionSeed("alice@acme.test", "Pro", "active", 4_900, "USD", -120, None),
    SubscriptionSeed("bob@acme.test", "Starter", "cancelled", 1_900, "USD", -200, -30),
    SubscriptionSeed("dave@acme.test", "Business", "trialing", 0, "USD", -7, 7),
)

INVOICES: tuple[InvoiceSeed, ...] = (
    InvoiceSeed("alice@acme.test", "INV-1001", 4_900, "USD", "paid", -35, -21, -25),
    InvoiceSeed("alice@acme.test", "INV-1002", 4_900, "USD", "open", -5, 9, None),
    InvoiceSeed("bob@acme.test", "INV-1003", 1_900, "USD", "overdue", -60, -45, None),
)
