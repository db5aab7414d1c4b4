"""Pure domain rules: phone normalisation and masking, city names, ticket priorities,
text ranking, migration files and SQL dialect conversion."""

from __future__ import annotations

from datetime import datetime

import pytest

from agentgraph.domain import Domain, InvalidPhone, mask_phone, normalize_city, normalize_phone
from agentgraph.domain.db import postgres_sql, sqlite_sql
from agentgraph.domain.migrations import load_migrations, split_statements
from agentgraph.domain.support import priority_for
from agentgraph.domain.textsearch import query_terms, rank, stem


@pytest.mark.parametrize(
    "raw",
    [
        "+250788000001",
        "0788000001",
        "250788000001",
        "+250 788 000 001",
        "00250788000001",
        "788000001",
        "(+250) 788-000-001",
        250788000001,
    ],
)
def test_normalize_phone_accepts_common_rwandan_forms(raw):
    assert normalize_phone(raw) == "+250788000001"


def test_normalize_phone_keeps_foreign_e164_numbers():
    assert normalize_phone("+33 6 12 34 56 78") == "+33612345678"


@pytest.mark.parametrize(
    "raw", ["", "hello", "+250 78800", "07880000011", "+2507880000012", "+0123456789", None, True]
)
def test_normalize_phone_rejects_garbage(raw):
    with pytest.raises(InvalidPhone) as info:
        normalize_phone(raw)
    assert "not a valid phone number" in info.value.user_message


def test_mask_phone_keeps_prefix_and_last_two_digits():
    assert mask_phone("+250788000001") == "+2507******01"
    assert mask_phone("123") == "***"


@pytest.mark.parametrize(
    ("raw", "city"),
    [
        ("kigali", "Kigali"),
        ("  HUYE ", "Huye"),
        ("Butare", "Huye"),
        ("gisenyi", "Rubavu"),
        ("RUHENGERI", "Musanze"),
        ("musanze", "Musanze"),
        ("nyanza", "Nyanza"),
    ],
)
def test_normalize_city_is_case_insensitive_and_knows_old_names(raw, city):
    assert normalize_city(raw) == city


@pytest.mark.parametrize(
    ("text", "priority"),
    [
        ("The app is down, total outage", "urgent"),
        ("I think this is fraud, someone took money", "urgent"),
        ("Security problem with my account", "urgent"),
        ("I lost my money after a transfer", "urgent"),
        ("My money has disappeared", "urgent"),
        ("URGENT please call me", "urgent"),
        ("Mon compte a été piraté", "urgent"),
        ("Payment did not go through", "high"),
        ("Question about billing", "high"),
        ("I want a refund", "high"),
        ("My account is locked", "high"),
        ("I can't log in since yesterday", "high"),
        ("Login fails with an error", "high"),
        ("Je veux un remboursement", "high"),
        ("How do I change my language?", "medium"),
        ("Where is the bus station in Huye?", "medium"),
    ],
)
def test_priority_rules(text, priority):
    assert priority_for(text) == priority


@pytest.mark.parametrize(
    ("forms", "expected"),
    [
        (("refund", "refunds", "refunded"), "refund"),
        (("cancel", "cancelled", "cancellation"), "cancel"),
        (("bill", "billing"), "bil"),
        (("booking", "bookings"), "book"),
        (("invoice", "invoices"), "invoic"),
        (("password", "passwords"), "password"),
        (("city", "cities"), "city"),
    ],
)
def test_stemming_conflates_word_forms_to_one_exact_stem(forms, expected):
    assert [stem(form) for form in forms] == [expected] * len(forms)


def test_unrelated_words_keep_distinct_stems():
    words = ["refund", "cancel", "billing", "booking", "invoice", "password", "ticket", "wallet"]
    stems = [stem(w) for w in words]
    assert len(set(stems)) == len(words), stems


@pytest.mark.parametrize("word", ["bus", "pay", "fee", "ids", "see", "a"])
def test_words_of_three_letters_or_fewer_are_left_whole(word):
    assert stem(word) == word


def test_words_ending_like_a_suffix_but_not_plural_keep_their_ending():
    assert [stem(w) for w in ("status", "bonus", "analysis", "address")] == [
        "status",
        "bonus",
        "analysis",
        "addres",
    ]


def test_query_terms_drop_stopwords_and_duplicates():
    assert query_terms("How do I get a REFUND, refunds please?") == ["refund"]
    assert query_terms("the and of") == []


def test_rank_weights_title_over_tags_over_body_and_breaks_ties_by_key():
    docs = [
        ("c-body", "Something", (), "all about refunds"),
        ("b-tag", "Other", ("refund",), "nothing"),
        ("a-title", "Refunds explained", (), "nothing"),
        ("d-none", "Unrelated", ("misc",), "nothing"),
        ("a-body", "Else", (), "a refund story"),
    ]
    ranked = rank("refund", docs, lambda d: (d[0], d[1], d[2], d[3]), limit=10)
    assert [(doc[0], score) for doc, score in ranked] == [
        ("a-title", 3.0),
        ("b-tag", 2.0),
        ("a-body", 1.0),
        ("c-body", 1.0),
    ]
    assert rank("refund", docs, lambda d: (d[0], d[1], d[2], d[3]), limit=2)[1][0][0] == "b-tag"


def test_split_statements_ignores_semicolons_in_quotes_and_comments():
    script = "CREATE TABLE a (x TEXT DEFAULT ';'); -- comment; here\nINSERT INTO a VALUES ('b;c');"
    assert split_statements(script) == [
        "CREATE TABLE a (x TEXT DEFAULT ';')",
        "INSERT INTO a VALUES ('b;c')",
    ]


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_every_migration_has_a_file_for_each_engine(engine):
    migrations = load_migrations(engine)
    versions = [m.version for m in migrations]
    # Consecutive from 1: a gap would mean a migration file went missing. Temporary:
    # 0008 is being added on another branch while the human inbox is 0009; once both
    # are merged (or 0009 is renumbered) the gap closes and `allowed_gap` must go.
    allowed_gap = {8}
    expected = [v for v in range(1, versions[-1] + 1) if v not in allowed_gap or v in versions]
    assert versions == expected
    assert len(versions) >= 7
    assert migrations[0].name == "init"
    assert "CREATE TABLE wallets" in migrations[0].sql


def test_sql_is_converted_per_engine():
    sql = "SELECT id FROM t WHERE a = ? AND b LIKE 'x%' ORDER BY id FOR UPDATE"
    assert postgres_sql(sql) == (
        "SELECT id FROM t WHERE a = %s AND b LIKE 'x%%' ORDER BY id FOR UPDATE"
    )
    assert sqlite_sql(sql) == "SELECT id FROM t WHERE a = ? AND b LIKE 'x%' ORDER BY id"


async def test_naive_clock_is_refused():
    class NaiveClock:
        def now(self) -> datetime:
            return datetime(2025, 1, 1)

        def time(self) -> float:
            return 0.0

    domain = await Domain.sqlite(":memory:", clock=NaiveClock())
    try:
        with pytest.raises(ValueError, match="naive"):
            domain.now()
        with pytest.raises(ValueError, match="naive"):
            await domain.migrate()
    finally:
        await domain.close()


async def test_sqlite_statement_on_the_database_inside_its_transaction_is_refused():
    domain = await Domain.sqlite(":memory:")
    try:
        async with domain.db.transaction() as tx:
            assert await tx.fetchval("SELECT 1") == 1
            with pytest.raises(RuntimeError, match="transaction handle"):
                await domain.db.fetchval("SELECT 1")
        with pytest.raises(RuntimeError, match="after its transaction"):
            await tx.fetchval("SELECT 1")
        assert await domain.db.fetchval("SELECT 2") == 2
    finally:
        await domain.close()
