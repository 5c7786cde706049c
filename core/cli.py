"""The `yishi` command for operators: migrate, apply manifests, manage users and roles, move photos, serve."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click
from sqlalchemy.ext.asyncio import AsyncSession

from core.commands import run as _run
from core.errors import DomainError
from core.notifications.cli import notifications, worker
from core.open311.cli import open311
from core.related.cli import related
from core.reporting.cli import stats
from core.settings import get_settings

if TYPE_CHECKING:
    from core.accounts.services import Passwords
    from core.audit.services import ChainReport
    from core.plugins import Plugins


class Invocation:
    """What one `yishi` command runs with (click's context object): the installed plugins and the password
    hasher, each made once, when the command first needs it."""

    def __init__(self, plugins: Plugins | None = None) -> None:
        self._plugins = plugins

    @property
    def plugins(self) -> Plugins:
        if self._plugins is None:
            from core.plugins import Plugins

            self._plugins = Plugins()
        return self._plugins

    @cached_property
    def passwords(self) -> Passwords:
        from core.accounts.services import Passwords

        return Passwords(get_settings().password_hash)


pass_invocation = click.make_pass_decorator(Invocation, ensure=True)


class YishiGroup(click.Group):
    """The `yishi` group, with the commands the invocation's plugins add (the `yishi_cli` hook): they are looked
    up when click looks for a command, so importing this module loads no plugin and `main` stays the core's."""

    def _plugin_commands(self, ctx: click.Context) -> dict[str, click.Command]:
        group = click.Group()
        ctx.ensure_object(Invocation).plugins.pm.hook.yishi_cli(group=group)
        return dict(group.commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._plugin_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) or self._plugin_commands(ctx).get(cmd_name)


@click.group(cls=YishiGroup)
@click.pass_context
def main(ctx: click.Context) -> None:
    """Yishi 议事 — operator commands. Settings come from YISHI_* environment variables."""
    ctx.ensure_object(Invocation)  # on the outermost context: every command below shares it


@main.command()
@pass_invocation
def migrate(invocation: Invocation) -> None:
    """Bring the database schema up to date (as the owner role), and grant the app role."""
    from core.migrate import RECOUNT_FIGURES, upgrade

    after = upgrade(get_settings(), invocation.plugins)
    click.echo("数据库已是最新版本")
    if RECOUNT_FIGURES in after:  # the figures are kept per day since revision 0025: count the days before it
        from core.reporting.cli import recount

        click.echo(f"已统计 {_run(recount)} 个租户升级前的数字")


@main.group()
def tenants() -> None:
    """Tenant tree."""


@tenants.command("apply")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_invocation
def tenants_apply(invocation: Invocation, file: Path) -> None:
    """Create or update the tenants, compounds and users of a manifest (idempotent)."""
    from core.tenancy.manifest import apply_manifest, load_manifest

    try:
        manifest = load_manifest(file)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    report = _run(lambda session: apply_manifest(session, manifest, invocation.plugins.names,
                                                 passwords=invocation.passwords))
    click.echo(f"{file}: {report.summary()}")
    for line in report.created + report.updated:
        click.echo(f"  {line}")


@main.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Load the demo tenants and users of the article (tenants/demo.yaml), then replay its cases through the API."""
    import httpx

    from core import clock
    from core.app import create_app
    from core.notifications.fanout import fan_out
    from core.timelimits.sweep import sweep
    from tenants import DEMO_MANIFEST
    from tenants.demo_cases import CaseFailed, replay

    invocation = ctx.ensure_object(Invocation)
    ctx.invoke(tenants_apply, file=DEMO_MANIFEST)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per in-process request is noise here

    async def cases() -> dict[str, str]:
        app = create_app(get_settings(), invocation.plugins)
        try:
            transport = httpx.ASGITransport(app=cast(Any, app))  # a Litestar app is an ASGI app; httpx types one narrowly
            async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
                outcomes = {**await replay(client), **await app.state.plugins.demo(client)}
            # What a worker's time-limit sweep would have done by now (reminders, 督办, escalation), done once; and
            # its fan-out of the event log (the staff told, the new concerns indexed for similar lookups).
            swept = await sweep(app.state, clock.now())
            await fan_out(app.state)
            return {**outcomes, "time_limit_sweep": ", ".join(f"{stage} {n}" for stage, n in swept.done.items())
                    or "nothing due"}
        finally:
            await app.state.engine.dispose()

    try:
        for name, outcome in asyncio.run(cases()).items():
            click.echo(f"  case {name}: {outcome}")
    except CaseFailed as exc:
        raise click.ClickException(f"演示案例失败：{exc}") from None


@main.group()
def users() -> None:
    """User accounts."""


@users.command("create")
@click.argument("username")
@click.option("--password", required=True, help="at least 8 characters")
@click.option("--name", default=None, help="display name, e.g. 张女士")
@click.option("--phone", default=None, help="11-digit mobile number")
@pass_invocation
def users_create(invocation: Invocation, username: str, password: str, name: str | None, phone: str | None) -> None:
    """Create a user."""
    from core.accounts.services import UserService

    _run(lambda session: UserService(session).create(username, password, name, phone,
                                                      passwords=invocation.passwords))
    click.echo(f"已创建用户 {username}")


@users.command("grant")
@click.argument("username")
@click.argument("role")
@click.argument("tenant_slug", required=False)
def users_grant(username: str, role: str, tenant_slug: str | None) -> None:
    """Grant ROLE in TENANT_SLUG (and every tenant below it); platform_admin takes no tenant."""
    from core.tenancy.manifest import grant_role
    from core.tenancy.services import TenantService

    created = _run(lambda session: grant_role(session, TenantService(session), username, role, tenant_slug))
    where = tenant_slug or "全平台"
    click.echo(f"{'已授予' if created else '已拥有'} {username} {role}（{where}）")


@main.group()
def audit() -> None:
    """The event log."""


@audit.command("verify")
@click.argument("tenant_slug", required=False)
@click.option("--since", "checkpoint_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="a file of `yishi audit checkpoint`: each chain must still hold the link it names")
def audit_verify(tenant_slug: str | None, checkpoint_file: Path | None) -> None:
    """Check every tenant's event hash chain (or one tenant's) up to its head; report the first broken link."""
    from core.audit.services import decode, verify_chains

    try:
        since = decode(checkpoint_file.read_bytes()) if checkpoint_file else None
    except DomainError as exc:
        click.echo(f"错误：{exc.message}", err=True)
        sys.exit(2)
    if since is not None:
        click.echo(f"对照检查点（{since.taken_at:%Y-%m-%d %H:%M} UTC，{len(since.tenants)} 个租户）")
    if _echo_reports(_run(lambda session: verify_chains(session, tenant_slug, since))):
        sys.exit(1)


@audit.command("checkpoint")
@click.option("--out", "output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="the file to write; standard output if left out")
def audit_checkpoint(output: Path | None) -> None:
    """Verify every chain, then write the head of each, signed with the audit key; keep the file outside the
    database (a later `yishi audit verify --since FILE` proves nothing before it was rewritten)."""
    from core.audit.services import encode as encode_checkpoint
    from core.audit.services import take_checkpoint

    checkpoint, reports = _run(take_checkpoint)
    if checkpoint is None:
        _echo_reports(reports, err=True)
        click.echo("有断链的租户：未生成检查点", err=True)
        sys.exit(1)
    body = encode_checkpoint(checkpoint)
    if output is None:
        sys.stdout.buffer.write(body)  # looked up now: click's test runner replaces sys.stdout
        return
    output.write_bytes(body)
    click.echo(f"已为 {len(checkpoint.tenants)} 个租户的事件链生成检查点：{output}", err=True)


def _echo_reports(reports: list[ChainReport], err: bool = False) -> list[str]:
    """One line per tenant; returns the slugs of broken chains."""
    for report in reports:
        if (link := report.broken) is None:
            click.echo(f"{report.slug}: {report.checked} 条记录，链完整", err=err)
        elif link.event_id is None:
            click.echo(f"{report.slug}: 第 {link.seq} 条记录处断链：{link.reason}", err=err)
        else:
            click.echo(f"{report.slug}: 第 {link.seq} 条记录（{link.event_id}）断链：{link.reason}", err=err)
    return [report.slug for report in reports if report.broken]


@main.command("export")
@click.option("--tenant", "slug", required=True, help="the tenant to export, with every tenant below it")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="the file to write (readable by its owner only); standard output if left out")
@pass_invocation
def export_tenant(invocation: Invocation, slug: str, output: Path | None) -> None:
    """Write a tenant's whole subtree as one JSON document: every row of every table with a tenant_id
    (plugins' included), the tenants, the users they reference, photos (base64) and the audit chain.

    THE FILE IS SECRET: it holds residents' personal data and the users' argon2 password hashes, kept so that
    sign-in keeps working after a move. Keep and send it like a database backup.
    """
    from core.media import photo_store_from
    from core.transfer.services import encode
    from core.transfer.services import export_tenant as export

    body = encode(_run(lambda session: export(session, slug, photo_store_from(get_settings()),
                                              plugins=invocation.plugins)))
    if output is None:
        sys.stdout.buffer.write(body)  # looked up now: click's test runner replaces sys.stdout
        return
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(body)
    click.echo(f"已导出 {slug} 到 {output}（{len(body) // 1024} KB；文件含个人信息与密码哈希，请妥善保管）", err=True)


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--parent", "parent_slug", default=None,
              help="the tenant to attach the imported tree under (default: its old parent, if this installation has it)")
@click.option("--source-audit-key", envvar="YISHI_SOURCE_AUDIT_KEY", default=None, show_envvar=True,
              help="the exporting installation's audit key, if not this one's (give it in the environment, not here)")
@pass_invocation
def import_tenant(invocation: Invocation, file: Path, parent_slug: str | None, source_audit_key: str | None) -> None:
    """Load a `yishi export` file in ONE transaction, keeping every id, then verify the imported audit chain.

    Refused, with nothing written: a slug or user name already taken here, an unknown format version or table,
    an audit chain that does not verify. The file is secret (see `yishi export --help`). A file from an
    installation with another audit key needs that key: each chain is verified under it, then re-linked under
    this installation's.
    """
    from core.media import photo_store_from
    from core.transfer.services import decode
    from core.transfer.services import import_tenant as load

    try:
        document = decode(file.read_bytes())
    except DomainError as exc:
        click.echo(f"错误：{exc.message}", err=True)
        sys.exit(2)
    source_key = source_audit_key.encode() if source_audit_key else None
    report = _run(lambda session: load(session, document, photo_store_from(get_settings()), parent_slug,
                                       source_audit_key=source_key, plugins=invocation.plugins))
    click.echo(f"已导入 {', '.join(report.tenants)}（来自 {document.source.installation}，"
               f"导出于 {document.exported_at:%Y-%m-%d %H:%M} UTC）")
    click.echo(f"  行数：{', '.join(f'{table} {n}' for table, n in report.rows.items())}")
    click.echo(f"  用户：新建 {len(report.users_created)}，沿用本安装已有 {len(report.users_reused)}；照片 {report.photos} 张")
    for slug, checked in report.events_verified.items():
        if checked:
            click.echo(f"  {slug}: {checked} 条事件记录，链完整")
    if quiet := sum(1 for checked in report.events_verified.values() if not checked):
        click.echo(f"  其余 {quiet} 个租户没有事件记录")
    for note in report.notes:
        click.echo(f"  注意：{note}")


@main.group()
def media() -> None:
    """Photos and where they are kept."""


@media.command("migrate")
@click.option("--from", "source_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="the folder the photos are in now (default: YISHI_MEDIA_DIR)")
def media_migrate(source_dir: Path | None) -> None:
    """Copy every photo from the local folder to the store YISHI_MEDIA_URL names (an S3 bucket), under the
    same keys, so every photo keeps resolving. Idempotent: photos already there are skipped. The local files
    are left in place: remove them once the app runs on the new store."""
    from core.media import PhotoStore, photo_store_from
    from core.transfer.media import copy_photos

    settings = get_settings()
    source, target = PhotoStore.local(source_dir or settings.media_dir), photo_store_from(settings)
    report = _run(lambda session: copy_photos(session, source, target))
    click.echo(f"从 {source.where} 到 {target.where}：复制 {report.copied} 张，目标已有 {report.already_there} 张，"
               f"源文件缺失 {len(report.missing)} 张")
    for key in report.missing:
        click.echo(f"  缺失：{key}", err=True)
    if report.missing:
        sys.exit(1)


@main.group()
def plugins() -> None:
    """Local mechanisms (插件)."""


@plugins.command("list")
@pass_invocation
def plugins_list(invocation: Invocation) -> None:
    """Installed plugins, their versions, and the tenants that enable them."""
    from sqlalchemy import select

    from core.tenancy.models import Tenant

    installed = invocation.plugins

    async def work(session: AsyncSession) -> list[tuple[str, list[str]]]:
        return [(t.slug, list(t.plugins or [])) for t in (await session.scalars(select(Tenant).order_by(Tenant.path))).all()]

    enabled = _run(work)
    for name in installed.names:
        info = installed.info[name]
        tenants = [slug for slug, names in enabled if name in names]
        click.echo(f"{name} {info.version}  {info.title}  ({info.module.__name__})")
        click.echo(f"  启用的租户：{', '.join(tenants) if tenants else '（无）'}")


@main.group()
def roles() -> None:
    """Roles and permissions."""


@roles.command("docs")
@pass_invocation
def roles_docs(invocation: Invocation) -> None:
    """Print docs/roles.md, the role × action matrix generated from the declared rules (the core's and the
    installed plugins')."""
    from core.authz.docs import render_roles_markdown

    click.echo(render_roles_markdown(invocation.plugins), nl=False)


@main.group()
def citus() -> None:
    """Past one database node: Citus (docs/scale.md)."""


@citus.command("plan")
@pass_invocation
def citus_plan(invocation: Invocation) -> None:
    """Print the SQL that distributes a migrated Yishi database on a Citus coordinator: the reference tables,
    then every tenant table by tenant_id, co-located, in foreign-key order (the installed plugins' tables too)."""
    from core.citus import LOCAL_TABLES, plan

    invocation.plugins.contributions  # noqa: B018  (collecting their routes imports their models: their tables too)
    click.echo(f"-- 留在协调节点的共享表：{', '.join(LOCAL_TABLES)}，以及 procrastinate_* 任务表")
    for statement in plan():
        click.echo(statement)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=lambda: int(os.environ.get("PORT", "8000")), show_default="$PORT or 8000")
@click.option("--workers", type=int, default=1, show_default=True)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the application with Granian."""
    from granian import Granian
    from granian.constants import Interfaces

    if metrics_dir := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Several workers share their metrics through this directory; a previous run's files would count twice.
        Path(metrics_dir).mkdir(parents=True, exist_ok=True)
        for stale in Path(metrics_dir).glob("*.db"):
            stale.unlink()
    click.echo(f"Yishi 议事 serving on http://{host}:{port}")
    Granian("core.app:create_app", address=host, port=port, workers=workers, interface=Interfaces.ASGI,
            factory=True).serve()


main.add_command(open311)  # the command groups the core keeps next to their feature
main.add_command(notifications)
main.add_command(worker)
main.add_command(related)
main.add_command(stats)
