"""`agentgraph admin ...`: bootstrap operator accounts and API keys from a shell.

    agentgraph admin create-user --email E --role R [--tenant T] --password-stdin
    agentgraph admin create-key --tenant T --role R --name N

`create-user` reads the password from the first line of standard input (so it never
appears in the shell history or the process list) and prints the new operator's id.
`create-key` prints the key once: only its hash is stored. Bad input (a weak
password, an unknown tenant or role, a taken email) exits with status 2 and a
message naming the problem. `agentgraph demo seed` calls `print_demo_operators`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from agentgraph.config import Settings
from agentgraph.domain import Domain, DomainError
from agentgraph.operators import ALL_ROLES, create_api_key, create_operator, seed_demo_operators
from agentgraph.persistence import open_domain

__all__ = ["add_admin_parser", "print_demo_operators", "run_admin"]


def add_admin_parser(sub: Any) -> None:
    """Add the `admin` command and its subcommands to the CLI's subparsers."""
    admin = sub.add_parser("admin", help="operator accounts and API keys")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    user = admin_sub.add_parser("create-user", help="create an operator account")
    user.add_argument("--email", required=True, help="the operator's email (their login)")
    user.add_argument("--role", required=True, choices=ALL_ROLES, help="the operator's role")
    user.add_argument("--tenant", default=None, help="their tenant (not for a super_admin)")
    user.add_argument(
        "--password-stdin",
        action="store_true",
        required=True,
        help="read the password from the first line of standard input",
    )
    key = admin_sub.add_parser("create-key", help="create a service API key (printed once)")
    key.add_argument("--tenant", required=True, help="the tenant the key acts for")
    key.add_argument(
        "--role", required=True, choices=("tenant_admin", "agent", "viewer"), help="its role"
    )
    key.add_argument("--name", required=True, help="what the key is for, e.g. 'crm sync'")


async def run_admin(settings: Settings, args: argparse.Namespace) -> int:
    """Run one `admin` subcommand; 0 on success, 2 on bad input."""
    async with open_domain(settings) as domain:
        try:
            if args.admin_command == "create-user":
                return await _create_user(domain, args)
            return await _create_key(domain, args)
        except DomainError as exc:
            print(f"agentgraph: {exc.user_message}", file=sys.stderr)
            return 2


async def _create_user(domain: Domain, args: argparse.Namespace) -> int:
    password = sys.stdin.readline().rstrip("\r\n")
    operator = await create_operator(domain, args.email, password, args.role, args.tenant)
    where = f" of {operator.tenant}" if operator.tenant else ""
    print(f"operator {operator.id} created: {operator.email} ({operator.role}{where})")
    return 0


async def _create_key(domain: Domain, args: argparse.Namespace) -> int:
    name = args.name.strip()
    if not 1 <= len(name) <= 100:
        print("agentgraph: --name: 1 to 100 characters", file=sys.stderr)
        return 2
    key, secret = await create_api_key(
        domain, tenant=args.tenant, role=args.role, name=name, created_by="cli"
    )
    print(f"API key {key.id} ({key.role} of {key.tenant}, '{key.name}'); shown only once:")
    print(secret)
    return 0


async def print_demo_operators(domain: Domain) -> None:
    """Make one demo operator per role (new random passwords on every run) and print them."""
    made = await seed_demo_operators(domain)
    print("demo operators (log in at POST /api/v1/auth/token; passwords reset on every seed):")
    for operator, password in made:
        print(f"  {operator.role:<13} {operator.email:<24} {password}")
