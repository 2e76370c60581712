"""`leadpact user add|list|disable` and `leadpact token create|list|revoke`: who may use the web
app and the API."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from leadpact.cli._output import exit_with_error, handle_errors, print_json, print_rows
from leadpact.cli._workspace import DEFAULT_WORKSPACE, JsonOption, WorkspaceOption, open_from_cli

user_app = typer.Typer(help="Users of the web app and their roles.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens (Authorization: Bearer TOKEN).", no_args_is_help=True)

ROLE_HELP = "admin, marketing, sales or viewer (docs/web.md lists what each may do)."


@user_app.command("add")
@handle_errors
def add_user(
    username: Annotated[str, typer.Argument(help="The login name (no spaces).")],
    role: Annotated[str, typer.Option("--role", help=ROLE_HELP)] = "viewer",
    name: Annotated[str | None, typer.Option("--name", help="Full name shown in the app.")] = None,
    email: Annotated[str | None, typer.Option("--email", help="Email address.")] = None,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from standard input."),
    ] = False,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Add a user who logs in to the web app (the first one is usually an admin)."""
    from leadpact.services.users import create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with open_from_cli(workspace) as ws:
        user = create_user(ws, username, password, role, name=name, email=email)
    typer.echo(f"added {user.username} ({user.role.value})")


@user_app.command("list")
@handle_errors
def list_users(workspace: WorkspaceOption = DEFAULT_WORKSPACE, as_json: JsonOption = False) -> None:
    """List the users and their roles."""
    from leadpact.services.users import list_users as users

    with open_from_cli(workspace) as ws:
        found = users(ws)
    rows = [
        {
            "username": u.username,
            "name": u.name,
            "role": u.role.value,
            "created_at": u.created_at,
            "disabled_at": u.disabled_at,
        }
        for u in found
    ]
    if as_json:
        print_json(rows)
        return
    print_rows(
        ["username", "name", "role", "disabled"],
        [[r["username"], r["name"] or "-", r["role"], r["disabled_at"] or "-"] for r in rows],
    )


@user_app.command("disable")
@handle_errors
def disable_user(
    username: Annotated[str, typer.Argument(help="The user to disable.")],
    enable: Annotated[bool, typer.Option("--enable", help="Enable the user again.")] = False,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Disable a user (logged out at their next request), or enable them again."""
    from leadpact.services.users import set_user_disabled

    with open_from_cli(workspace) as ws:
        user = set_user_disabled(ws, username, disabled=not enable)
    typer.echo(f"{user.username} is {'enabled' if user.disabled_at is None else 'disabled'}")


@token_app.command("create")
@handle_errors
def create_token(
    name: Annotated[str, typer.Option("--name", help="What the token is for (unique).")],
    role: Annotated[str, typer.Option("--role", help=ROLE_HELP)] = "marketing",
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    as_json: JsonOption = False,
) -> None:
    """Create an API token and print it (once: only its hash is kept)."""
    from leadpact.services.users import create_token as create

    with open_from_cli(workspace) as ws:
        token, secret = create(ws, name, role)
    if as_json:
        print_json({"name": token.name, "role": token.role.value, "token": secret})
        return
    typer.echo(secret)
    typer.echo(
        f"token {token.name!r} ({token.role.value}); send it as 'Authorization: Bearer <token>'. "
        "It is not shown again.",
        err=True,
    )


@token_app.command("list")
@handle_errors
def list_tokens(
    workspace: WorkspaceOption = DEFAULT_WORKSPACE, as_json: JsonOption = False
) -> None:
    """List the API tokens (never their secrets)."""
    from leadpact.services.users import list_tokens as tokens

    with open_from_cli(workspace) as ws:
        found = tokens(ws)
    rows = [
        {
            "name": t.name,
            "role": t.role.value,
            "created_at": t.created_at,
            "last_used_at": t.last_used_at,
            "revoked_at": t.revoked_at,
        }
        for t in found
    ]
    if as_json:
        print_json(rows)
        return
    print_rows(
        ["name", "role", "last used", "revoked"],
        [[r["name"], r["role"], r["last_used_at"] or "-", r["revoked_at"] or "-"] for r in rows],
    )


@token_app.command("revoke")
@handle_errors
def revoke_token(
    name: Annotated[str, typer.Argument(help="The token's name.")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Revoke a token: requests carrying it are refused from now on."""
    from leadpact.services.users import revoke_token as revoke

    if not name.strip():
        exit_with_error("give the token's name", code=2)
    with open_from_cli(workspace) as ws:
        revoke(ws, name)
    typer.echo(f"revoked {name}")
