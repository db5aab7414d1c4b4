"""Operator sign-in over HTTP, on SQLite and Postgres: login, token expiry, refresh
rotation and reuse, logout, API keys, failed-login limits (in process and in Redis)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agentgraph.clock import ManualClock
from agentgraph.config import Settings
from tests.support.operators import PASSWORD, bearer, operator_server


async def test_login_answers_a_token_pair_and_me_names_the_operator(any_settings: Settings):
    async with operator_server(any_settings) as op:
        response = await op.login_response("  Admin@EasyMO.test ")
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
        assert body["token_type"] == "bearer" and body["expires_in"] == 1800
        me = await op.http.get("/api/v1/auth/me", headers=bearer(body["access_token"]))
        assert me.status_code == 200
        assert me.json() == {
            "kind": "operator",
            "id": op.ids["admin@easymo.test"],
            "role": "tenant_admin",
            "tenant": "easymo",
            "email": "admin@easymo.test",
            "name": None,
        }
        root = await op.login("super@ops.test")
        user = await op.http.get(
            f"/api/v1/users/{op.ids['admin@easymo.test']}", headers=bearer(root)
        )
        assert user.json()["last_login_at"] is not None


async def test_wrong_password_unknown_email_and_inactive_operator_are_refused(
    any_settings: Settings,
):
    async with operator_server(any_settings) as op:
        wrong = await op.login_response("agent@easymo.test", "not the password")
        unknown = await op.login_response("nobody@easymo.test")
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json() == unknown.json() == {"detail": "wrong email or password"}
        assert wrong.headers["www-authenticate"] == "Bearer"
        root = await op.login("super@ops.test")
        agent_tokens = await op.tokens("agent@easymo.test")
        off = await op.http.patch(
            f"/api/v1/users/{op.ids['agent@easymo.test']}",
            json={"active": False},
            headers=bearer(root),
        )
        assert off.status_code == 200 and off.json()["active"] is False
        inactive = await op.login_response("agent@easymo.test")
        assert inactive.status_code == 401
        assert inactive.json() == {"detail": "this operator account is deactivated"}
        # Deactivation also ends the sessions already open.
        me = await op.http.get("/api/v1/auth/me", headers=bearer(agent_tokens["access_token"]))
        assert me.status_code == 401
        again = await op.http.post(
            "/api/v1/auth/refresh", json={"refresh_token": agent_tokens["refresh_token"]}
        )
        assert again.status_code == 401
        assert (await op.http.get("/api/v1/auth/me")).status_code == 401


async def test_an_access_token_expires_after_thirty_minutes(any_settings: Settings):
    clock = ManualClock()
    async with operator_server(any_settings, clock=clock) as op:
        tokens = await op.tokens("viewer@easymo.test")
        me = "/api/v1/auth/me"
        clock.advance(timedelta(minutes=29, seconds=59))
        assert (await op.http.get(me, headers=bearer(tokens["access_token"]))).status_code == 200
        clock.advance(1)
        expired = await op.http.get(me, headers=bearer(tokens["access_token"]))
        assert expired.status_code == 401
        assert expired.json() == {"detail": "invalid access token: token expired"}
        # The refresh token, valid a day, gets a new pair.
        fresh = await op.http.post(
            "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert fresh.status_code == 200
        assert (await op.http.get(me, headers=bearer(fresh.json()["access_token"]))).json()[
            "email"
        ] == "viewer@easymo.test"
        clock.advance(timedelta(days=1))
        late = await op.http.post(
            "/api/v1/auth/refresh", json={"refresh_token": fresh.json()["refresh_token"]}
        )
        assert late.status_code == 401
        assert late.json() == {"detail": "invalid refresh token: token expired"}


async def test_a_refresh_token_works_once_and_its_reuse_revokes_the_family(
    any_settings: Settings,
):
    async with operator_server(any_settings) as op:
        first = await op.tokens("agent@easymo.test")
        other_login = await op.tokens("agent@easymo.test")
        refresh = "/api/v1/auth/refresh"
        second = await op.http.post(refresh, json={"refresh_token": first["refresh_token"]})
        assert second.status_code == 200
        second_pair = second.json()
        assert second_pair["refresh_token"] != first["refresh_token"]
        reused = await op.http.post(refresh, json={"refresh_token": first["refresh_token"]})
        assert reused.status_code == 401
        assert reused.json() == {
            "detail": "refresh token already used; the session is revoked, log in again"
        }
        # The whole family is gone: the rotated refresh token and its access token too.
        after = await op.http.post(refresh, json={"refresh_token": second_pair["refresh_token"]})
        assert after.status_code == 401 and after.json() == {
            "detail": "session revoked; log in again"
        }
        me = "/api/v1/auth/me"
        assert (
            await op.http.get(me, headers=bearer(second_pair["access_token"]))
        ).status_code == 401
        # Another login of the same operator is another family, untouched.
        assert (
            await op.http.get(me, headers=bearer(other_login["access_token"]))
        ).status_code == 200
        # An access token is not a refresh token, and garbage is refused.
        for bad in (other_login["access_token"], "not.a.jwt"):
            assert (await op.http.post(refresh, json={"refresh_token": bad})).status_code == 401


async def test_logout_ends_the_session_at_once(any_settings: Settings):
    async with operator_server(any_settings) as op:
        tokens = await op.tokens("viewer@easymo.test")
        headers = bearer(tokens["access_token"])
        out = await op.http.post("/api/v1/auth/logout", headers=headers)
        assert out.status_code == 204 and out.content == b""
        assert (await op.http.get("/api/v1/auth/me", headers=headers)).status_code == 401
        refreshed = await op.http.post(
            "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert refreshed.status_code == 401
        assert (await op.http.post("/api/v1/auth/logout")).status_code == 401


async def test_an_api_key_is_shown_once_used_as_bearer_and_revoked(any_settings: Settings):
    clock = ManualClock()
    async with operator_server(any_settings, clock=clock) as op:
        admin = bearer(await op.login("admin@easymo.test"))
        made = await op.http.post(
            "/api/v1/keys", json={"name": "crm sync", "role": "viewer"}, headers=admin
        )
        assert made.status_code == 201
        key = made.json()
        secret = key["key"]
        assert secret.startswith("ak_") and len(secret) > 40
        assert key["prefix"] == secret[:11] and key["tenant"] == "easymo"
        assert key["role"] == "viewer" and key["last_used_at"] is None
        assert key["created_by"] == f"operator:{op.ids['admin@easymo.test']}"

        me = await op.http.get("/api/v1/auth/me", headers=bearer(secret))
        assert me.json() == {
            "kind": "api_key",
            "id": key["id"],
            "role": "viewer",
            "tenant": "easymo",
            "email": None,
            "name": "crm sync",
        }
        listed = (await op.http.get("/api/v1/keys", headers=admin)).json()["items"]
        assert [k["id"] for k in listed] == [key["id"]]
        assert "key" not in listed[0]
        first_use = listed[0]["last_used_at"]
        assert first_use is not None
        # Written at most once a minute.
        clock.advance(30)
        await op.http.get("/api/v1/auth/me", headers=bearer(secret))
        listed = (await op.http.get("/api/v1/keys", headers=admin)).json()["items"]
        assert listed[0]["last_used_at"] == first_use
        clock.advance(31)
        await op.http.get("/api/v1/auth/me", headers=bearer(secret))
        listed = (await op.http.get("/api/v1/keys", headers=admin)).json()["items"]
        assert listed[0]["last_used_at"] > first_use

        revoked = await op.http.delete(f"/api/v1/keys/{key['id']}", headers=admin)
        assert revoked.status_code == 204
        refused = await op.http.get("/api/v1/auth/me", headers=bearer(secret))
        assert refused.status_code == 401
        assert refused.json() == {"detail": "unknown or revoked API key"}
        assert (await op.http.delete(f"/api/v1/keys/{key['id']}", headers=admin)).status_code == 204
        listed = (await op.http.get("/api/v1/keys", headers=admin)).json()["items"]
        assert listed[0]["revoked_at"] is not None
        bogus = await op.http.get("/api/v1/auth/me", headers=bearer("ak_" + "x" * 43))
        assert bogus.status_code == 401


async def test_a_password_reset_ends_sessions_and_the_new_password_works(
    any_settings: Settings,
):
    async with operator_server(any_settings) as op:
        admin = bearer(await op.login("admin@easymo.test"))
        agent = await op.tokens("agent@easymo.test")
        reset = await op.http.patch(
            f"/api/v1/users/{op.ids['agent@easymo.test']}",
            json={"password": "a brand new secret"},
            headers=admin,
        )
        assert reset.status_code == 200
        me = await op.http.get("/api/v1/auth/me", headers=bearer(agent["access_token"]))
        assert me.status_code == 401
        assert (await op.login_response("agent@easymo.test")).status_code == 401
        fresh = await op.login_response("agent@easymo.test", "a brand new secret")
        assert fresh.status_code == 200


def _limits(settings: Settings, **values: int) -> Settings:
    return settings.model_copy(update=values)


async def _failed_logins(op, email: str, n: int, **headers: str) -> list[int]:
    return [
        (await op.login_response(email, "wrong password!", **headers)).status_code for _ in range(n)
    ]


@pytest.mark.parametrize("store", ["memory", "redis"])
async def test_failed_logins_are_limited_per_account(
    sqlite_settings: Settings, store: str, request: pytest.FixtureRequest
):
    settings = _limits(sqlite_settings, login_max_failures=3, login_window_seconds=600)
    if store == "redis":
        settings = settings.model_copy(
            update={
                "redis_url": request.getfixturevalue("redis_url"),
                "redis_prefix": request.getfixturevalue("redis_prefix"),
            }
        )
    clock = ManualClock(start=1_700_000_800.0)  # 400 s into a 600 s window
    async with operator_server(settings, clock=clock) as op:
        assert await _failed_logins(op, "agent@easymo.test", 3) == [401, 401, 401]
        blocked = await op.login_response("agent@easymo.test")  # even the right password
        assert blocked.status_code == 429
        assert blocked.headers["retry-after"] == "200"
        assert blocked.json() == {"detail": "too many failed logins; try again in 200 s"}
        # Another account from the same address is not blocked.
        assert (await op.login_response("viewer@easymo.test")).status_code == 200
        clock.advance(200)
        assert (await op.login_response("agent@easymo.test")).status_code == 200
        # A success clears the account's count.
        assert await _failed_logins(op, "agent@easymo.test", 2) == [401, 401]
        assert (await op.login_response("agent@easymo.test")).status_code == 200
        assert await _failed_logins(op, "agent@easymo.test", 3) == [401, 401, 401]
        assert (await op.login_response("agent@easymo.test")).status_code == 429


@pytest.mark.parametrize("store", ["memory", "redis"])
async def test_failed_logins_are_limited_per_address(
    sqlite_settings: Settings, store: str, request: pytest.FixtureRequest
):
    settings = _limits(
        sqlite_settings,
        login_max_failures=100,
        login_max_failures_per_ip=4,
        login_window_seconds=60,
    )
    if store == "redis":
        settings = settings.model_copy(
            update={
                "redis_url": request.getfixturevalue("redis_url"),
                "redis_prefix": request.getfixturevalue("redis_prefix"),
            }
        )
    clock = ManualClock(start=1_699_999_990.0)  # 10 s into a minute
    async with operator_server(settings, clock=clock) as op:
        statuses = [
            (await op.login_response(f"guess{n}@easymo.test", "wrong password!")).status_code
            for n in range(4)
        ]
        assert statuses == [401, 401, 401, 401]
        blocked = await op.login_response("admin@easymo.test", PASSWORD)
        assert blocked.status_code == 429 and blocked.headers["retry-after"] == "50"
        clock.advance(50)
        assert (await op.login_response("admin@easymo.test", PASSWORD)).status_code == 200
