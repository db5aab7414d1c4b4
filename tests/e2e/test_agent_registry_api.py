"""The agent registry over HTTP, on SQLite and Postgres: each role against each agent
route, another tenant's agents answering 404, versions in ETag/If-Match (412, 428),
the audit trail, bad input (422 naming the field, 409 for a duplicate name), a
tenant's configuration of a global agent, archiving, and the tool catalogue."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
from pathlib import Path

from agentgraph.config import Settings
from agentgraph.tools import tool_catalogue
from server.app import create_app
from tests.support.operators import PASSWORD, ROLE_EMAIL, bearer, operator_server
from tests.support.registry import seed_registry

READERS = set(ROLE_EMAIL)
ADMINS = {"super_admin", "tenant_admin"}
ANY = {"If-Match": "*"}
NEEDS_ADMIN = {"detail": "this needs the role super_admin or tenant_admin"}
AGENT_FIELDS = {
    "id", "tenant", "name", "description", "agent_type", "capabilities", "system_prompt",
    "model_config", "tools", "status", "maintenance_message", "created_by", "created_at",
    "updated_at", "version", "configured_for", "archived_at",
}  # fmt: skip


def _fields(response) -> list[tuple]:
    return [tuple(e["loc"]) for e in response.json()["detail"]]


async def test_the_tool_catalogue_names_each_tool_its_agent_types_and_money(
    any_settings: Settings,
):
    async with operator_server(any_settings) as op:
        viewer = bearer(await op.login("viewer@easymo.test"))
        response = await op.http.get("/api/v1/tools", headers=viewer)
    assert response.status_code == 200
    items = {t["name"]: t for t in response.json()["items"]}
    assert list(items) == [t.name for t in tool_catalogue()]
    assert len(items) == 17 and not any(n.startswith("transfer_to_") for n in items)
    assert {n for n, t in items.items() if t["moves_money"]} == {
        "transfer_money",
        "create_booking",
        "cancel_booking",
    }
    assert items["transfer_money"]["needs_confirmation"] is True
    assert items["transfer_money"]["agent_types"] == ["payment"]
    assert items["check_balance"]["agent_types"] == ["booking", "payment"]
    assert items["escalate_to_human"]["agent_types"] == ["booking", "payment", "support"]
    assert items["check_balance"]["moves_money"] is False
    assert items["search_help_articles"]["description"].strip() != ""


async def test_each_role_against_each_agent_route(any_settings: Settings):
    async with operator_server(any_settings) as op:
        await seed_registry(any_settings)
        root = bearer(await op.login("super@ops.test"))
        made = await op.http.post(
            "/api/v1/agents", json={"name": "Concierge", "agent_type": "faq"}, headers=root
        )
        assert made.status_code == 201 and made.json()["tenant"] is None
        shared = made.json()["id"]
        config = f"/api/v1/agents/{shared}/configuration?tenant=easymo"
        targets = {}
        for role, email in ROLE_EMAIL.items():
            target = await op.http.post(
                "/api/v1/agents",
                json={"name": f"target of {role}", "agent_type": "faq", "tenant": "easymo"},
                headers=root,
            )
            targets[role] = target.json()["id"]
            one = f"/api/v1/agents/{targets[role]}"
            table = [
                ("GET", "/api/v1/tools", None, READERS, 200),
                ("GET", "/api/v1/agents", None, READERS, 200),
                ("GET", one, None, READERS, 200),
                ("GET", f"{one}/history", None, READERS, 200),
                ("GET", config, None, READERS, 200),
                (
                    "POST",
                    "/api/v1/agents",
                    {"name": f"new by {role}", "agent_type": "faq", "tenant": "easymo"},
                    ADMINS,
                    201,
                ),
                ("PATCH", one, {"description": f"by {role}"}, ADMINS, 200),
                ("PATCH", config, {"description": f"easymo's, by {role}"}, ADMINS, 200),
                ("DELETE", config, None, ADMINS, 200),
                ("DELETE", one, None, ADMINS, 200),
            ]
            headers = bearer(await op.login(email))
            for method, path, body, allowed, ok in table:
                response = await op.http.request(
                    method, path, json=body, headers={**headers, **ANY}
                )
                expected = ok if role in allowed else 403
                assert response.status_code == expected, (role, method, path, response.text)
                if expected == 403:
                    assert response.json() == NEEDS_ADMIN
                elif method == "PATCH" and path == one:
                    assert response.json()["description"] == f"by {role}"
                elif method == "PATCH":
                    assert response.json()["overrides"] == {"description": f"easymo's, by {role}"}
                elif method == "DELETE" and path == one:
                    assert response.json()["archived_at"] is not None
                elif method == "DELETE":
                    assert response.json()["overrides"] == {}
            for method, path, body, _, _ in table:
                for anonymous in ({}, bearer("garbage"), {"Authorization": "Basic eDp5"}):
                    response = await op.http.request(
                        method, path, json=body, headers={**anonymous, **ANY}
                    )
                    assert response.status_code == 401, (method, path, anonymous)
                    assert response.headers["www-authenticate"] == "Bearer"
        # What the read-only roles could not write is as it was.
        for role in ("agent", "viewer"):
            kept = await op.http.get(f"/api/v1/agents/{targets[role]}", headers=root)
            assert (kept.status_code, kept.json()["description"], kept.json()["version"]) == (
                200,
                "",
                1,
            )
        listed = await op.http.get("/api/v1/agents?limit=100&tenant=easymo", headers=root)
        names = [a["name"] for a in listed.json()["items"]]
        assert "new by super_admin" in names and "new by tenant_admin" in names
        assert "new by agent" not in names and "new by viewer" not in names


async def test_another_tenants_agents_answer_404_like_missing_ones(any_settings: Settings):
    async with operator_server(any_settings) as op:
        ids = await seed_registry(any_settings)
        root = bearer(await op.login("super@ops.test"))
        acme_key = await op.http.post(
            "/api/v1/keys",
            json={"name": "acme admin", "role": "tenant_admin", "tenant": "acme"},
            headers=root,
        )
        payment = ids["easymo"]["payment"]
        callers = {
            "acme admin jwt": bearer(await op.login("admin@acme.test")),
            "acme admin key": bearer(acme_key.json()["key"]),
            "acme agent jwt": bearer(await op.login("agent@acme.test")),
        }
        for who, headers in callers.items():
            for agent_id in (payment, 999_999):
                one = f"/api/v1/agents/{agent_id}"
                writes = who != "acme agent jwt"
                for method, path, body in (
                    ("GET", one, None),
                    ("GET", f"{one}/history", None),
                    ("GET", f"{one}/configuration", None),
                    *(
                        [
                            ("PATCH", one, {"status": "inactive"}),
                            ("DELETE", one, None),
                            ("PATCH", f"{one}/configuration", {"status": "inactive"}),
                            ("DELETE", f"{one}/configuration", None),
                        ]
                        if writes
                        else []
                    ),
                ):
                    response = await op.http.request(
                        method, path, json=body, headers={**headers, "If-Match": '"1"'}
                    )
                    assert response.status_code == 404, (who, method, path, response.text)
                    assert response.json() == {"detail": f"There is no agent {agent_id}."}
            listed = await op.http.get("/api/v1/agents", headers=headers)
            assert [a["name"] for a in listed.json()["items"]] == [
                "Acme Cloud triage",
                "Acme Cloud support",
            ]
            no_easymo = {"detail": "No business is registered under 'easymo'."}
            for method, path, body in (
                ("GET", "/api/v1/agents?tenant=easymo", None),
                (
                    "GET",
                    f"/api/v1/agents/{ids['acme']['support']}/configuration?tenant=easymo",
                    None,
                ),
            ):
                response = await op.http.request(method, path, json=body, headers=headers)
                assert (response.status_code, response.json()) == (404, no_easymo), (who, path)
        for who in ("acme admin jwt", "acme admin key"):
            made = await op.http.post(
                "/api/v1/agents",
                json={"name": "Spy", "agent_type": "faq", "tenant": "easymo"},
                headers=callers[who],
            )
            assert made.status_code == 404
            assert made.json() == {"detail": "No business is registered under 'easymo'."}
        # Nothing of easymo changed; the super admin sees it.
        kept = await op.http.get(f"/api/v1/agents/{payment}", headers=root)
        assert (kept.json()["status"], kept.json()["version"]) == ("active", 1)
        history = await op.http.get(f"/api/v1/agents/{payment}/history", headers=root)
        assert [c["action"] for c in history.json()["items"]] == ["create"]
        easymo = await op.http.get("/api/v1/agents?tenant=easymo", headers=root)
        assert [a["name"] for a in easymo.json()["items"]] == [
            "easyMO Rwanda triage",
            "easyMO Rwanda booking",
            "easyMO Rwanda payment",
            "easyMO Rwanda support",
        ]
        assert (await op.http.get("/api/v1/agents", headers=root)).json()["items"] == []


async def test_versions_travel_in_etag_and_if_match_and_every_change_is_audited(
    any_settings: Settings,
):
    async with operator_server(any_settings) as op:
        admin_id = op.ids["admin@easymo.test"]
        admin = bearer(await op.login("admin@easymo.test"))
        created = await op.http.post(
            "/api/v1/agents",
            json={
                "name": "  Billing desk ",
                "agent_type": "billing",
                "description": "Invoices and refunds.",
                "capabilities": ["accounts", "accounts", "help"],
                "model_config": {"model": "gpt-4o-mini", "temperature": 1, "max_tokens": 512},
                "tools": ["list_invoices", "search_help_articles"],
            },
            headers=admin,
        )
        assert created.status_code == 201
        body = created.json()
        agent = body["id"]
        one = f"/api/v1/agents/{agent}"
        assert set(body) == AGENT_FIELDS
        assert created.headers["etag"] == '"1"'
        assert created.headers["location"] == one
        assert (body["name"], body["tenant"], body["version"]) == ("Billing desk", "easymo", 1)
        assert body["capabilities"] == ["accounts", "help"]
        assert body["model_config"] == {
            "model": "gpt-4o-mini",
            "temperature": 1.0,
            "max_tokens": 512,
        }
        assert (body["status"], body["created_by"]) == ("active", f"operator:{admin_id}")

        read = await op.http.get(one, headers=admin)
        assert read.headers["etag"] == '"1"' and read.json() == body

        missing = await op.http.patch(one, json={"status": "inactive"}, headers=admin)
        assert missing.status_code == 428
        assert missing.json() == {
            "detail": "Send If-Match with the ETag (version) the change is based on"
        }
        first = await op.http.patch(
            one, json={"status": "inactive"}, headers={**admin, "If-Match": '"1"'}
        )
        assert first.status_code == 200 and first.headers["etag"] == '"2"'
        assert (first.json()["status"], first.json()["version"]) == ("inactive", 2)
        stale = await op.http.patch(
            one, json={"status": "active"}, headers={**admin, "If-Match": '"1"'}
        )
        assert stale.status_code == 412
        assert stale.json() == {
            "detail": f"Agent {agent} changed since version 1 (it is now version 2); "
            "read it again and retry."
        }
        garbage = await op.http.patch(
            one, json={"status": "active"}, headers={**admin, "If-Match": "yesterday"}
        )
        assert garbage.status_code == 412
        assert garbage.json() == {
            "detail": "If-Match 'yesterday' matches no version of this agent."
        }
        weak = await op.http.patch(
            one,
            json={"status": "maintenance", "maintenance_message": "Back at noon."},
            headers={**admin, "If-Match": 'W/"2"'},
        )
        assert weak.status_code == 200 and weak.headers["etag"] == '"3"'
        anyway = await op.http.patch(
            one, json={"status": "active", "maintenance_message": None}, headers={**admin, **ANY}
        )
        assert anyway.status_code == 200 and anyway.headers["etag"] == '"4"'
        stale_delete = await op.http.delete(one, headers={**admin, "If-Match": '"3"'})
        assert stale_delete.status_code == 412
        assert (await op.http.delete(one, headers=admin)).status_code == 428
        assert (await op.http.get(one, headers=admin)).json()["version"] == 4

        history = await op.http.get(f"{one}/history", headers=admin)
        items = history.json()["items"]
        assert [(c["action"], c["version"], c["actor"]) for c in items] == [
            ("create", 1, f"operator:{admin_id}"),
            ("update", 2, f"operator:{admin_id}"),
            ("update", 3, f"operator:{admin_id}"),
            ("update", 4, f"operator:{admin_id}"),
        ]
        assert items[0]["before"] is None
        assert items[0]["after"]["tools"] == ["list_invoices", "search_help_articles"]
        assert (items[1]["before"]["status"], items[1]["after"]["status"]) == (
            "active",
            "inactive",
        )
        assert items[2]["after"]["maintenance_message"] == "Back at noon."
        assert items[3]["after"]["maintenance_message"] is None
        assert all(c["configuration_of"] is None for c in items)
        page = await op.http.get(f"{one}/history?limit=2&offset=1", headers=admin)
        assert [c["version"] for c in page.json()["items"]] == [2, 3]


async def test_bad_input_is_422_naming_the_field_and_a_duplicate_name_409(any_settings: Settings):
    async with operator_server(any_settings) as op:
        admin = bearer(await op.login("admin@easymo.test"))
        good = {"name": "Helper", "agent_type": "faq"}
        cases = [
            ({"agent_type": "faq"}, ("body", "name")),
            ({**good, "name": "   "}, ("body", "name")),
            ({**good, "name": "n" * 81}, ("body", "name")),
            ({**good, "agent_type": "Not A Type"}, ("body", "agent_type")),
            ({**good, "description": "d" * 501}, ("body", "description")),
            ({**good, "system_prompt": "p" * 20_001}, ("body", "system_prompt")),
            ({**good, "capabilities": [f"c{i}" for i in range(21)]}, ("body", "capabilities")),
            ({**good, "capabilities": ["c" * 61]}, ("body", "capabilities", 0)),
            ({**good, "tools": ["check_balance"] * 41}, ("body", "tools")),
            ({**good, "tools": ["fly_to_the_moon"]}, ("body", "tools")),
            ({**good, "model_config": {"model": "gpt-9"}}, ("body", "model_config", "model")),
            (
                {**good, "model_config": {"temperature": 2.5}},
                ("body", "model_config", "temperature"),
            ),
            (
                {**good, "model_config": {"temperature": -0.1}},
                ("body", "model_config", "temperature"),
            ),
            (
                {**good, "model_config": {"temperature": True}},
                ("body", "model_config", "temperature"),
            ),
            ({**good, "model_config": {"max_tokens": 0}}, ("body", "model_config", "max_tokens")),
            (
                {**good, "model_config": {"max_tokens": 4097}},
                ("body", "model_config", "max_tokens"),
            ),
            ({**good, "model_config": {"max_tokens": 1.5}}, ("body", "model_config", "max_tokens")),
            ({**good, "model_config": {"top_p": 1}}, ("body", "model_config", "top_p")),
            ({**good, "status": "paused"}, ("body", "status")),
            ({**good, "status": "maintenance"}, ("body", "maintenance_message")),
            ({**good, "maintenance_message": "m" * 501}, ("body", "maintenance_message")),
            ({**good, "agent_type": "triage", "tools": ["check_balance"]}, ("body", "tools")),
            ({**good, "version": 3}, ("body", "version")),
            ({**good, "tenant": "Not A Slug"}, ("body", "tenant")),
            # Valid JSON, but no database stores it: refused before it gets there.
            ({**good, "name": "Help\u0000desk"}, ("body", "name")),
            ({**good, "description": "\ud800"}, ("body", "description")),
            ({**good, "system_prompt": "agent: faq\u0000"}, ("body", "system_prompt")),
            ({**good, "capabilities": ["\ud83d"]}, ("body", "capabilities", 0)),
            ({**good, "model_config": {"model": "\u0000"}}, ("body", "model_config", "model")),
        ]
        for body, field in cases:
            # json.dumps escapes what is not ASCII, so a lone surrogate travels as \ud800.
            response = await op.http.post(
                "/api/v1/agents",
                content=json.dumps(body),
                headers={**admin, "Content-Type": "application/json"},
            )
            assert response.status_code == 422, (body, response.text)
            assert field in _fields(response), (body, response.json())
        unknown = await op.http.post(
            "/api/v1/agents", json={**good, "tools": ["fly", "check_balance"]}, headers=admin
        )
        assert unknown.json()["detail"][0]["msg"] == (
            "Unknown tool 'fly': choose tools from the tool catalogue."
        )
        model = await op.http.post(
            "/api/v1/agents", json={**good, "model_config": {"model": "gpt-9"}}, headers=admin
        )
        assert model.json()["detail"][0]["msg"] == (
            "Model 'gpt-9' is not allowed here. Allowed models: gpt-4.1, gpt-4.1-mini, "
            "gpt-4.1-nano, gpt-4o, gpt-4o-mini."
        )

        made = await op.http.post("/api/v1/agents", json=good, headers=admin)
        assert made.status_code == 201
        for name in ("Helper", " helper ", "HELPER"):
            duplicate = await op.http.post(
                "/api/v1/agents", json={**good, "name": name}, headers=admin
            )
            assert duplicate.status_code == 409
            assert duplicate.json() == {
                "detail": f"An agent named '{name.strip()}' already exists."
            }
        other = await op.http.post("/api/v1/agents", json={**good, "name": "Other"}, headers=admin)
        renamed = await op.http.patch(
            f"/api/v1/agents/{other.json()['id']}",
            json={"name": "helper"},
            headers={**admin, **ANY},
        )
        assert renamed.status_code == 409
        assert renamed.json() == {"detail": "An agent named 'helper' already exists."}

        one = f"/api/v1/agents/{made.json()['id']}"
        for body, field in (
            ({}, ("body",)),
            ({"name": None}, ("body",)),
            ({"tools": None}, ("body",)),
            ({"status": "maintenance"}, ("body", "maintenance_message")),
            ({"tools": ["nope"]}, ("body", "tools")),
            ({"created_by": "me"}, ("body", "created_by")),
            ({"tenant": "acme"}, ("body", "tenant")),
        ):
            response = await op.http.patch(one, json=body, headers={**admin, **ANY})
            assert response.status_code == 422, (body, response.text)
            assert field in _fields(response), (body, response.json())
        assert (await op.http.get(one, headers=admin)).json()["version"] == 1
        tuned = await op.http.patch(
            one, json={"model_config": {"temperature": 0.5}}, headers={**admin, **ANY}
        )
        assert tuned.json()["model_config"] == {
            "model": None,
            "temperature": 0.5,
            "max_tokens": None,
        }
        default = await op.http.patch(one, json={"model_config": None}, headers={**admin, **ANY})
        assert default.json()["model_config"] == {
            "model": None,
            "temperature": None,
            "max_tokens": None,
        }
        for method, path in (
            ("GET", "/api/v1/agents/0"),
            ("GET", "/api/v1/agents/abc"),
            ("GET", f"/api/v1/agents/{2**63}"),
            ("GET", "/api/v1/agents?limit=0"),
            ("GET", "/api/v1/agents?limit=101"),
            ("GET", "/api/v1/agents?offset=-1"),
            ("GET", "/api/v1/agents?status=paused"),
            ("GET", f"{one}/history?limit=101"),
        ):
            response = await op.http.request(method, path, headers=admin)
            assert response.status_code == 422, (method, path)
        too_long = await op.http.patch(
            one, json={"status": "inactive"}, headers={**admin, "If-Match": '"' + "1" * 120 + '"'}
        )
        assert too_long.status_code == 422 and ("header", "If-Match") in _fields(too_long)


async def test_a_tenant_configures_a_global_agent_for_itself_only(any_settings: Settings):
    async with operator_server(any_settings) as op:
        ids = await seed_registry(any_settings)
        root = bearer(await op.login("super@ops.test"))
        easymo = bearer(await op.login("admin@easymo.test"))
        acme = bearer(await op.login("admin@acme.test"))
        made = await op.http.post(
            "/api/v1/agents",
            json={"name": "Concierge", "agent_type": "faq", "tools": ["search_help_articles"]},
            headers=root,
        )
        shared = made.json()["id"]
        one = f"/api/v1/agents/{shared}"
        config = f"{one}/configuration"

        before = await op.http.get(config, headers=easymo)
        assert before.status_code == 200 and before.headers["etag"] == '"1"'
        assert (before.json()["tenant"], before.json()["overrides"]) == ("easymo", {})
        assert before.json()["updated_by"] is None

        changed = await op.http.patch(
            config,
            json={"status": "maintenance", "maintenance_message": "Closed today."},
            headers={**easymo, "If-Match": '"1"'},
        )
        assert changed.status_code == 200 and changed.headers["etag"] == '"2"'
        body = changed.json()
        assert body["overrides"] == {
            "status": "maintenance",
            "maintenance_message": "Closed today.",
        }
        assert body["updated_by"] == f"operator:{op.ids['admin@easymo.test']}"
        assert (body["agent"]["status"], body["agent"]["configured_for"]) == (
            "maintenance",
            "easymo",
        )
        tools = await op.http.patch(
            config, json={"tools": []}, headers={**easymo, "If-Match": '"2"'}
        )
        assert tools.json()["overrides"] == {
            "status": "maintenance",
            "maintenance_message": "Closed today.",
            "tools": [],
        }
        stale = await op.http.patch(
            config, json={"tools": []}, headers={**easymo, "If-Match": '"2"'}
        )
        assert stale.status_code == 412

        # easymo runs it configured; acme and the definition are untouched.
        seen = (await op.http.get(one, headers=easymo)).json()
        assert (seen["status"], seen["tools"], seen["version"]) == ("maintenance", [], 3)
        for headers in (acme, root):
            plain = (await op.http.get(one, headers=headers)).json()
            assert (plain["status"], plain["tools"], plain["version"]) == (
                "active",
                ["search_help_articles"],
                1,
            )
            assert plain["configured_for"] is None
        acme_config = await op.http.get(config, headers=acme)
        assert acme_config.json()["overrides"] == {}
        as_root = await op.http.get(f"{config}?tenant=easymo", headers=root)
        assert as_root.json()["overrides"] == tools.json()["overrides"]

        # The global agent itself is the super admin's; its identity is not configurable.
        for method, path, body, reason in (
            ("PATCH", one, {"status": "inactive"}, "change"),
            ("DELETE", one, None, "archive"),
        ):
            refused = await op.http.request(method, path, json=body, headers={**easymo, **ANY})
            assert refused.status_code == 403
            assert refused.json() == {
                "detail": f"Agent {shared} is global: only a super_admin may {reason} it. "
                f"Configure it for your tenant with PATCH /api/v1/agents/{shared}/configuration."
            }
        renamed = await op.http.patch(config, json={"name": "Mine"}, headers={**easymo, **ANY})
        assert renamed.status_code == 422 and ("body", "name") in _fields(renamed)
        own = f"/api/v1/agents/{ids['easymo']['payment']}/configuration"
        for method in ("GET", "PATCH", "DELETE"):
            body = {"status": "inactive"} if method == "PATCH" else None
            response = await op.http.request(method, own, json=body, headers={**easymo, **ANY})
            assert response.status_code == 409, method
            assert response.json() == {
                "detail": f"Agent {ids['easymo']['payment']} belongs to one tenant, so it has "
                f"no per-tenant configuration: change it with PATCH "
                f"/api/v1/agents/{ids['easymo']['payment']}."
            }
        unnamed = await op.http.get(config, headers=root)
        assert unnamed.status_code == 422 and _fields(unnamed) == [("query", "tenant")]
        nowhere = await op.http.get(f"{config}?tenant=nowhere", headers=root)
        assert nowhere.status_code == 404

        # A super admin configures for acme; the definition changes for everyone unconfigured.
        for_acme = await op.http.patch(
            f"{config}?tenant=acme",
            json={"description": "Acme's concierge."},
            headers={**root, **ANY},
        )
        assert for_acme.json()["agent"]["description"] == "Acme's concierge."
        redefined = await op.http.patch(
            one, json={"description": "Everyone's concierge."}, headers={**root, "If-Match": '"1"'}
        )
        assert redefined.status_code == 200
        assert (await op.http.get(one, headers=acme)).json()["description"] == "Acme's concierge."
        reset = await op.http.delete(config, headers={**easymo, "If-Match": '"3"'})
        assert reset.status_code == 412  # the definition moved: easymo's view is version 4
        reset = await op.http.delete(config, headers={**easymo, "If-Match": '"4"'})
        assert reset.status_code == 200 and reset.json()["overrides"] == {}
        plain = reset.json()["agent"]
        assert (plain["status"], plain["description"], plain["configured_for"]) == (
            "active",
            "Everyone's concierge.",
            None,
        )

        history = (await op.http.get(f"{one}/history", headers=easymo)).json()["items"]
        assert [(c["action"], c["configuration_of"]) for c in history] == [
            ("create", None),
            ("update", "easymo"),
            ("update", "easymo"),
            ("update", None),
            ("reset", "easymo"),
        ]
        everything = (await op.http.get(f"{one}/history", headers=root)).json()["items"]
        assert [(c["action"], c["configuration_of"]) for c in everything] == [
            ("create", None),
            ("update", "easymo"),
            ("update", "easymo"),
            ("update", "acme"),
            ("update", None),
            ("reset", "easymo"),
        ]


async def test_deleting_archives_the_agent_and_keeps_its_history(any_settings: Settings):
    async with operator_server(any_settings) as op:
        ids = await seed_registry(any_settings)
        admin = bearer(await op.login("admin@easymo.test"))
        viewer = bearer(await op.login("viewer@easymo.test"))
        booking = ids["easymo"]["booking"]
        one = f"/api/v1/agents/{booking}"
        archived = await op.http.delete(one, headers={**admin, "If-Match": '"1"'})
        assert archived.status_code == 200
        body = archived.json()
        assert body["archived_at"] is not None and body["name"] == "easyMO Rwanda booking"
        assert archived.headers["etag"] == '"2"'
        assert (await op.http.get(one, headers=admin)).status_code == 404
        again = await op.http.delete(one, headers={**admin, **ANY})
        assert again.status_code == 404 and again.json() == {
            "detail": f"There is no agent {booking}."
        }
        listed = (await op.http.get("/api/v1/agents", headers=viewer)).json()["items"]
        assert [a["agent_type"] for a in listed] == ["triage", "payment", "support"]
        history = (await op.http.get(f"{one}/history", headers=viewer)).json()["items"]
        assert [(c["action"], c["version"]) for c in history] == [("create", 1), ("delete", 2)]
        assert history[-1]["before"]["name"] == "easyMO Rwanda booking"
        assert history[-1]["after"] is None
        # The name is free again.
        reused = await op.http.post(
            "/api/v1/agents",
            json={"name": "easyMO Rwanda booking", "agent_type": "booking"},
            headers=admin,
        )
        assert reused.status_code == 201 and reused.json()["id"] != booking


def test_the_spec_documents_versions_preconditions_and_bodies(sqlite_settings: Settings):
    spec = create_app(sqlite_settings).openapi()
    paths = spec["paths"]
    writes = [
        ("patch", "/api/v1/agents/{agent_id}"),
        ("delete", "/api/v1/agents/{agent_id}"),
        ("patch", "/api/v1/agents/{agent_id}/configuration"),
        ("delete", "/api/v1/agents/{agent_id}/configuration"),
    ]
    for method, path in writes:
        operation = paths[path][method]
        assert {"401", "403", "404", "412", "422", "428"} <= set(operation["responses"]), path
        headers = [p for p in operation["parameters"] if p["in"] == "header"]
        assert [(h["name"], h["required"]) for h in headers] == [("If-Match", False)], path
        assert "ETag" in operation["responses"]["200"]["headers"], path
    for method, path in (("get", "/api/v1/agents/{agent_id}"), ("post", "/api/v1/agents")):
        ok = "201" if method == "post" else "200"
        assert "ETag" in paths[path][method]["responses"][ok]["headers"], path
    assert "409" in paths["/api/v1/agents"]["post"]["responses"]
    create = spec["components"]["schemas"]["AgentCreate"]
    assert create["additionalProperties"] is False
    assert {"name", "agent_type", "model_config", "tools", "tenant"} <= set(create["properties"])
    assert create["required"] == ["name", "agent_type"]
    settings = spec["components"]["schemas"]["ModelSettings"]["properties"]
    temperature = settings["temperature"]["anyOf"][0]
    assert (temperature["minimum"], temperature["maximum"]) == (0, 2)
    tokens = settings["max_tokens"]["anyOf"][0]
    assert (tokens["minimum"], tokens["maximum"]) == (1, 4096)
    agent = spec["components"]["schemas"]["AgentOut"]["properties"]
    assert "model_config" in agent and "llm" not in agent


API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


async def test_the_walkthrough_in_docs_api_prints_what_it_says(sqlite_settings: Settings):
    text = await asyncio.to_thread(API_DOC.read_text, encoding="utf-8")
    script, printed = re.search(
        r"```bash\n(API=.*?Billing desk.*?)```\n\nprints[^\n]*\n\n```text\n(.*?)```", text, re.S
    ).groups()
    async with operator_server(sqlite_settings) as op:
        await seed_registry(sqlite_settings)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTGRAPH_", "DATABASE"))}
        done = await asyncio.to_thread(
            subprocess.run,
            ["bash", "-euo", "pipefail", "-c", script],
            env={**env, "PORT": op.base_url.rsplit(":", 1)[1], "PASSWORD": PASSWORD},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout == printed
