"""`yishi open311 keys …`: register, list and revoke the client apps that may file concerns in a tenant."""

from __future__ import annotations

import click

from core.commands import run
from core.open311.services import create_client, list_clients, revoke_client


@click.group()
def open311() -> None:
    """Open311 GeoReport v2 (/open311/v2/TENANT_SLUG/)."""


@open311.group()
def keys() -> None:
    """API keys of client apps: one per app and tenant; a key works only in its own tenant."""


@keys.command("create")
@click.argument("tenant_slug")
@click.argument("app_name")
def keys_create(tenant_slug: str, app_name: str) -> None:
    """Register APP_NAME for TENANT_SLUG and print its api_key (on stdout, once: only its hash is kept)."""
    client, key = run(lambda session: create_client(session, tenant_slug, app_name))
    click.echo(f"已为 {tenant_slug} 登记 Open311 应用「{client.name}」（{client.id}）。"
               "以下密钥只显示这一次，请交给该应用保存：", err=True)
    click.echo(key)


@keys.command("list")
@click.argument("tenant_slug")
def keys_list(tenant_slug: str) -> None:
    """The client apps of TENANT_SLUG, active and revoked (never their keys)."""
    clients = run(lambda session: list_clients(session, tenant_slug))
    if not clients:
        click.echo(f"{tenant_slug} 还没有 Open311 应用")
    for client in clients:
        state = f"已吊销 {client.revoked_at:%Y-%m-%d %H:%M}" if client.revoked_at else "有效"
        click.echo(f"{client.id}  {client.name}  登记于 {client.created_at:%Y-%m-%d %H:%M}  {state}")


@keys.command("revoke")
@click.argument("tenant_slug")
@click.argument("app")
def keys_revoke(tenant_slug: str, app: str) -> None:
    """Revoke the active app APP (its name or id) of TENANT_SLUG: its key stops working at once."""
    client = run(lambda session: revoke_client(session, tenant_slug, app))
    click.echo(f"已吊销 {tenant_slug} 的 Open311 应用「{client.name}」（{client.id}）")
