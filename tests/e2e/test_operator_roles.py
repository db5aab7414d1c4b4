"""Roles and tenants over HTTP, on SQLite and Postgres: each role against each operator
route, another tenant's resources answering 404, who may grant what, and the one
dependency every route goes through."""

from __future__ import annotations

from itertools import count

from fastapi.routing import APIRoute

from agentgraph.config import Settings
from agentgraph.operators import ALL_ROLES
from server.api import agents as api_agents
from server.api import auth as api_auth
from server.api import conversations as api_conversations
from server.api import inbox as api_inbox
from server.api import keys as api_keys
from server.api import tools as api_tools
from server.api import users as api_users
from server.app import create_app
from tests.support.operators import PASSWORD, ROLE_EMAIL, bearer, operator_server

ADMIN_ONLY = {"super_admin", "tenant_admin"}
_n = count()


def _route_table(user_id: int, key_id: int) -> list[tuple[str, str, dict | None, set[str], int]]:
    """(method, path, body, roles allowed, success status) of every operator route."""
    return [
        ("GET", "/api/v1/auth/me", None, set(ROLE_EMAIL), 200),
        ("GET", "/api/v1/users", None, ADMIN_ONLY, 200),
        ("GET", f"/api/v1/users/{user_id}", None, ADMIN_ONLY, 200),
        ("PATCH", f"/api/v1/users/{user_id}", {"active": True}, ADMIN_ONLY, 200),
        ("POST", "/api/v1/users", "new-user", ADMIN_ONLY, 201),
        ("GET", "/api/v1/keys", None, ADMIN_ONLY, 200),
        (
            "POST",
            "/api/v1/keys",
            {"name": "k", "role": "viewer", "tenant": "easymo"},
            ADMIN_ONLY,
            201,
        ),
        ("DELETE", f"/api/v1/keys/{key_id}", None, ADMIN_ONLY, 204),
        ("POST", "/api/v1/auth/logout", None, set(ROLE_EMAIL), 204),
    ]


def _body(body: dict | str | None) -> dict | None:
    if body == "new-user":
        return {
            "email": f"new{next(_n)}@easymo.test",
            "password": PASSWORD,
            "role": "agent",
            "tenant": "easymo",
        }
    return body if isinstance(body, dict) else None


async def test_each_role_against_each_route(any_settings: Settings):
    async with operator_server(any_settings) as op:
        root = bearer(await op.login("super@ops.test"))
        key = await op.http.post(
            "/api/v1/keys",
            json={"name": "target", "role": "agent", "tenant": "easymo"},
            headers=root,
        )
        table = _route_table(op.ids["agent@easymo.test"], key.json()["id"])
        for role, email in ROLE_EMAIL.items():
            headers = bearer(await op.login(email))
            for method, path, body, allowed, ok in table:
                response = await op.http.request(method, path, json=_body(body), headers=headers)
                expected = ok if role in allowed else 403
                assert response.status_code == expected, (role, method, path, response.text)
                if expected == 403:
                    assert response.json() == {
                        "detail": "this needs the role super_admin or tenant_admin"
                    }
        for method, path, body, _, _ in table:
            for headers in ({}, bearer("garbage"), {"Authorization": "Basic eDp5"}):
                response = await op.http.request(method, path, json=_body(body), headers=headers)
                assert response.status_code == 401, (method, path, headers)
                assert response.headers["www-authenticate"] == "Bearer"


async def test_another_tenants_resources_answer_404_like_missing_ones(any_settings: Settings):
    async with operator_server(any_settings) as op:
        root = bearer(await op.login("super@ops.test"))
        acme_key = await op.http.post(
            "/api/v1/keys", json={"name": "acme", "role": "viewer", "tenant": "acme"}, headers=root
        )
        easymo_admin_key = await op.http.post(
            "/api/v1/keys",
            json={"name": "easymo admin", "role": "tenant_admin", "tenant": "easymo"},
            headers=root,
        )
        acme_user, acme_key_id = op.ids["agent@acme.test"], acme_key.json()["id"]
        jwt = bearer(await op.login("admin@easymo.test"))
        key = bearer(easymo_admin_key.json()["key"])
        missing_user = {"detail": "No such operator."}
        for headers in (jwt, key):
            for method, path, body in (
                ("GET", f"/api/v1/users/{acme_user}", None),
                ("PATCH", f"/api/v1/users/{acme_user}", {"active": False}),
                ("GET", "/api/v1/users/999999", None),
            ):
                response = await op.http.request(method, path, json=body, headers=headers)
                assert response.status_code == 404, (method, path)
                assert response.json() == missing_user
            for path in (f"/api/v1/keys/{acme_key_id}", "/api/v1/keys/999999"):
                response = await op.http.delete(path, headers=headers)
                assert response.status_code == 404 and response.json() == {
                    "detail": "No such API key."
                }
            no_acme = {"detail": "No business is registered under 'acme'."}
            for method, path, body in (
                ("GET", "/api/v1/users?tenant=acme", None),
                (
                    "POST",
                    "/api/v1/users",
                    {
                        "email": "x@acme.test",
                        "password": PASSWORD,
                        "role": "agent",
                        "tenant": "acme",
                    },
                ),
                ("POST", "/api/v1/keys", {"name": "x", "role": "viewer", "tenant": "acme"}),
                ("PATCH", f"/api/v1/users/{op.ids['agent@easymo.test']}", {"tenant": "acme"}),
            ):
                response = await op.http.request(method, path, json=body, headers=headers)
                assert response.status_code == 404, (method, path, response.text)
                assert response.json() == no_acme
            users = (await op.http.get("/api/v1/users", headers=headers)).json()["items"]
            assert {u["tenant"] for u in users} == {"easymo"}
            keys = (await op.http.get("/api/v1/keys", headers=headers)).json()["items"]
            assert {k["tenant"] for k in keys} == {"easymo"}
        # Nothing of acme changed; the super admin sees both tenants.
        acme = await op.http.get(f"/api/v1/users/{acme_user}", headers=root)
        assert acme.json()["active"] is True and acme.json()["tenant"] == "acme"
        everyone = (await op.http.get("/api/v1/users?limit=100", headers=root)).json()["items"]
        assert {u["tenant"] for u in everyone} == {None, "easymo", "acme"}
        only_acme = (await op.http.get("/api/v1/users?tenant=acme", headers=root)).json()
        assert [u["email"] for u in only_acme["items"]] == ["admin@acme.test", "agent@acme.test"]


async def test_only_a_super_admin_grants_super_admin(any_settings: Settings):
    async with operator_server(any_settings) as op:
        admin = bearer(await op.login("admin@easymo.test"))
        denied = {"detail": "Only a super_admin may grant the super_admin role."}
        made = await op.http.post(
            "/api/v1/users",
            json={"email": "boss@easymo.test", "password": PASSWORD, "role": "super_admin"},
            headers=admin,
        )
        assert made.status_code == 403 and made.json() == denied
        promoted = await op.http.patch(
            f"/api/v1/users/{op.ids['agent@easymo.test']}",
            json={"role": "super_admin"},
            headers=admin,
        )
        assert promoted.status_code == 403 and promoted.json() == denied
        # Within the tenant a tenant admin may promote and create (tenant defaults to theirs).
        ok = await op.http.patch(
            f"/api/v1/users/{op.ids['agent@easymo.test']}",
            json={"role": "tenant_admin"},
            headers=admin,
        )
        assert ok.status_code == 200 and ok.json()["role"] == "tenant_admin"
        created = await op.http.post(
            "/api/v1/users",
            json={"email": "v2@easymo.test", "password": PASSWORD, "role": "viewer"},
            headers=admin,
        )
        assert created.status_code == 201 and created.json()["tenant"] == "easymo"
        root = bearer(await op.login("super@ops.test"))
        boss = await op.http.post(
            "/api/v1/users",
            json={"email": "Boss@Ops.test", "password": PASSWORD, "role": "super_admin"},
            headers=root,
        )
        assert boss.status_code == 201
        assert boss.json()["email"] == "boss@ops.test" and boss.json()["tenant"] is None
        moved = await op.http.patch(
            f"/api/v1/users/{boss.json()['id']}",
            json={"role": "viewer", "tenant": "acme"},
            headers=root,
        )
        assert moved.status_code == 200
        assert (moved.json()["role"], moved.json()["tenant"]) == ("viewer", "acme")


def _fields(response) -> list[tuple]:
    return [tuple(e["loc"]) for e in response.json()["detail"]]


async def test_bad_input_is_422_naming_the_field_and_duplicates_409(any_settings: Settings):
    async with operator_server(any_settings) as op:
        root = bearer(await op.login("super@ops.test"))
        good = {"email": "n@easymo.test", "password": PASSWORD, "role": "agent", "tenant": "easymo"}
        cases = [
            ({k: v for k, v in good.items() if k != "email"}, ("body", "email")),
            ({**good, "email": "not-an-email"}, ("body", "email")),
            ({**good, "email": "a@b.c" + "c" * 260}, ("body", "email")),
            ({**good, "password": "short"}, ("body", "password")),
            ({**good, "password": "p" * 129}, ("body", "password")),
            ({**good, "role": "owner"}, ("body", "role")),
            ({**good, "tenant": "Not A Slug"}, ("body", "tenant")),
            ({**good, "surprise": 1}, ("body", "surprise")),
            ({**good, "role": "super_admin"}, ("body", "tenant")),
            ({**good, "tenant": None}, ("body", "tenant")),
        ]
        for body, field in cases:
            response = await op.http.post("/api/v1/users", json=body, headers=root)
            assert response.status_code == 422, body
            assert field in _fields(response), (body, response.json())
        assert (await op.http.post("/api/v1/users", json=good, headers=root)).status_code == 201
        duplicate = await op.http.post(
            "/api/v1/users", json={**good, "email": " N@EASYMO.test"}, headers=root
        )
        assert duplicate.status_code == 409
        assert duplicate.json() == {
            "detail": "An operator with the email n@easymo.test already exists."
        }
        nowhere = await op.http.post(
            "/api/v1/users",
            json={**good, "email": "z@easymo.test", "tenant": "nowhere"},
            headers=root,
        )
        assert nowhere.status_code == 404

        user = f"/api/v1/users/{op.ids['agent@easymo.test']}"
        for body in ({}, {"role": None}, {"active": "maybe"}, {"email": "x@y.test"}):
            assert (await op.http.patch(user, json=body, headers=root)).status_code == 422, body
        for path in ("/api/v1/users/0", "/api/v1/users/abc", "/api/v1/keys/0"):
            method = "DELETE" if "keys" in path else "GET"
            assert (await op.http.request(method, path, headers=root)).status_code == 422
        for query in ("limit=0", "limit=101", "offset=-1", "tenant=UPPER"):
            listed = await op.http.get(f"/api/v1/users?{query}", headers=root)
            assert listed.status_code == 422, query
        page = await op.http.get("/api/v1/users?limit=2&offset=1", headers=root)
        assert [u["id"] for u in page.json()["items"]] == [2, 3]

        for body, field in (
            ({"name": "", "role": "viewer", "tenant": "easymo"}, ("body", "name")),
            ({"name": "n" * 101, "role": "viewer", "tenant": "easymo"}, ("body", "name")),
            ({"name": "k", "role": "super_admin", "tenant": "easymo"}, ("body", "role")),
            ({"name": "k", "role": "viewer"}, ("body", "tenant")),
            ({"name": "k", "role": "viewer", "tenant": "easymo", "key": "ak_x"}, ("body", "key")),
        ):
            response = await op.http.post("/api/v1/keys", json=body, headers=root)
            assert response.status_code == 422, body
            assert field in _fields(response), (body, response.json())

        login = "/api/v1/auth/token"
        missing = await op.http.post(login, data={"username": "super@ops.test"})
        assert missing.status_code == 422 and ("body", "password") in _fields(missing)
        long_name = await op.http.post(login, data={"username": "u" * 255, "password": "x"})
        assert long_name.status_code == 422 and ("body", "username") in _fields(long_name)
        grant = await op.http.post(
            login, data={"username": "super@ops.test", "password": PASSWORD, "grant_type": "code"}
        )
        assert grant.status_code == 422 and ("body", "grant_type") in _fields(grant)
        refresh = await op.http.post("/api/v1/auth/refresh", json={"refresh_token": "x", "more": 1})
        assert refresh.status_code == 422 and ("body", "more") in _fields(refresh)


def test_every_operator_route_goes_through_the_role_dependency_and_documents_errors(
    sqlite_settings: Settings,
):
    app = create_app(sqlite_settings)
    public = {("POST", "/api/v1/auth/token"), ("POST", "/api/v1/auth/refresh")}

    def roles_of(dependant) -> list:
        found = [getattr(dependant.call, "roles", None)]
        for sub in dependant.dependencies:
            found += roles_of(sub)
        return [r for r in found if r is not None]

    seen = set()
    everyone = set()
    for module in (
        api_auth,
        api_users,
        api_keys,
        api_agents,
        api_tools,
        api_inbox,
        api_conversations,
    ):
        for route in module.router.routes:
            assert isinstance(route, APIRoute)
            for method in route.methods:
                path = "/api/v1" + route.path
                seen.add((method, path))
                guards = roles_of(route.dependant)
                if (method, path) in public:
                    assert guards == [], path
                else:
                    assert len(guards) == 1, (method, path, guards)
                    if set(guards[0]) == set(ALL_ROLES):
                        everyone.add((method, path))
    spec = app.openapi()
    served = {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        if path.startswith("/api/v1")
        for method in operations
    }
    assert served == seen and len(seen) == 28 and public <= seen
    for path, operations in spec["paths"].items():
        if not path.startswith("/api/v1"):
            continue
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "401" in responses, (method, path)
            if (method.upper(), path) not in public:
                # A 403 is documented exactly where a role can be refused.
                refusable = (method.upper(), path) not in everyone
                assert ("403" in responses) == refusable, (method, path)
                assert operation.get("security"), (method, path)
            ok = next(code for code in responses if code.startswith("2"))
            if ok != "204":
                assert "$ref" in str(responses[ok]["content"]["application/json"]["schema"])
            if operation.get("requestBody") or operation.get("parameters"):
                assert "422" in responses, (method, path)
