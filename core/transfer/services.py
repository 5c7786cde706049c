"""Moving a whole tenant: `yishi export` writes a tenant's subtree — every row of every table with a tenant_id,
plugins' included, the tenants themselves, the users they reference, photos and the audit chain — as one JSON
document; `yishi import` loads such a document in one transaction and proves the imported audit chain intact.

The document is secret: it holds residents' personal data and the users' argon2 password hashes (kept so that
sign-in keeps working after a move). Photos travel inside it, base64-encoded, so that one file is the whole
tenant: it cannot be separated from its pictures, and the import checks every picture before it writes anything.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import importlib.metadata
import re
import socket
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from sqlalchemy import Table, insert, select, union, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.accounts.models import User
from core.db import ALL_TENANTS, Base, TenantContext
from core.errors import Conflict, InvalidInput, NotFound
from core.events import audit_key, relink, verify_chain
from core.media import PhotoStore
from core.notifications.fanout import start_at_head
from core.plugins import Plugins
from core.reporting import tallies
from core.tenancy.models import ALLOWED_PARENT_KINDS, Tenant
from core.tenancy.scope import within

FORMAT = "yishi.tenant-export"
# 2: the audit chain's links are keyed (migration 0005); version 1's were not, and its chain head had prev_hash.
FORMAT_VERSION = 2
SUPPORTED_VERSIONS = frozenset({2})
TENANT_TABLE = "tenant"
USER_TABLE = "user_account"
CURSOR_TABLE = "notification_cursor"
TALLY_TABLE = "day_tally"
# Photo keys are made by the server (core/media.py): "<tenant hex>/<random hex><extension>". Anything else in a
# file is refused, so an import can never write outside the media folder.
PHOTO_KEY = re.compile(r"^(?P<tenant>[0-9a-f]{32})/[0-9a-f]{32}\.(jpg|png|webp)$")
_CHUNK = 500


class TableRows(msgspec.Struct):
    columns: list[str]
    rows: list[list[Any]]


class Source(msgspec.Struct):
    installation: str  # the exporting host
    database: str  # dialect and database name, never credentials
    yishi_version: str
    plugins: dict[str, str]  # installed plugin → version


class TenantExport(msgspec.Struct, kw_only=True):
    format: str
    format_version: int
    source: Source
    exported_at: datetime.datetime
    tenant: str  # the slug of the subtree's root
    parent: str | None  # the root's parent at export time, for the record
    tables: dict[str, TableRows]  # in dependency order: parents before children
    photos: dict[str, str]  # storage key → base64 bytes


class _Header(msgspec.Struct):
    format: Any = None
    format_version: Any = None


@dataclass
class ImportReport:
    tenants: list[str]
    rows: dict[str, int]
    users_created: list[str]
    users_reused: list[str]
    photos: int
    events_verified: dict[str, int]
    notes: list[str] = field(default_factory=list)


def transfer_tables() -> list[Table]:
    """Every table a tenant's data lives in, parents before children: the tree, the users, and every table
    with a tenant_id column. Plugins' tables come along once the plugins are loaded (building `Plugins`, as
    the callers of export and import did, imports their models)."""
    import core.models  # noqa: F401

    return [t for t in Base.metadata.sorted_tables if t.name in (TENANT_TABLE, USER_TABLE) or "tenant_id" in t.c]


def _columns(table: Table) -> list[Any]:
    """The columns a plain SELECT reads (advanced-alchemy's always-empty insert sentinel is not one of them)."""
    return list(select(table).selected_columns)


def _is_tenant_table(table: Table) -> bool:
    return "tenant_id" in table.c


def _python_type(column: Any) -> type | None:
    try:
        return column.type.python_type
    except NotImplementedError:  # JSON: stored as it came
        return None


def _decoder(column: Any) -> Any:
    kind = _python_type(column)
    if kind is uuid.UUID:
        return uuid.UUID
    if kind is datetime.datetime:
        return datetime.datetime.fromisoformat
    if kind is datetime.date:
        return datetime.date.fromisoformat
    return None


def _references(table: Table, target: str) -> list[str]:
    """Columns of `table` with a single-column foreign key to `target`.id (tenant_id itself left out)."""
    return [fk.parent.name for fk in table.foreign_keys
            if fk.column.table.name == target and fk.column.name == "id" and fk.parent.name != "tenant_id"]


async def _select(session: AsyncSession, statement: Any) -> list[dict[str, Any]]:
    """Rows of a statement on the tables themselves, which names the subtree it reads in its own WHERE (and on
    PostgreSQL, Row-Level Security walls it as well)."""
    walled_by_hand = statement.execution_options(**{ALL_TENANTS: True})
    return [dict(row) for row in (await session.execute(walled_by_hand)).mappings()]


# --- export ------------------------------------------------------------------------------------------------


async def export_tenant(session: AsyncSession, slug: str, store: PhotoStore,
                        tables: list[Table] | None = None, *, plugins: Plugins) -> TenantExport:
    """Read `slug` and every tenant below it, in one consistent snapshot; the file names `plugins`' versions."""
    tables = tables if tables is not None else transfer_tables()
    postgres = session.bind is not None and session.bind.dialect.name == "postgresql"
    if postgres:  # every table read from the same snapshot, whatever is written meanwhile
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    root = await session.scalar(select(Tenant).where(Tenant.slug == slug))
    if root is None:
        raise NotFound("没有租户 {slug}", slug=slug)
    parent = await session.scalar(select(Tenant.slug).where(Tenant.id == root.parent_id)) if root.parent_id else None
    # The same walls as the app: reads widened to the subtree, which PostgreSQL's Row-Level Security also allows.
    by_name = {t.name: t for t in tables}
    tenant = by_name[TENANT_TABLE]
    subtree = select(tenant.c.id).where(tenant.c.path.startswith(root.path))
    async with within(session, root, subtree=True):
        rows: dict[str, list[dict[str, Any]]] = {
            TENANT_TABLE: await _select(session, select(tenant).where(tenant.c.path.startswith(root.path))
                                        .order_by(tenant.c.path))}
        for table in tables:
            if _is_tenant_table(table):
                rows[table.name] = await _select(session, select(table).where(table.c.tenant_id.in_(subtree))
                                                 .order_by(*table.primary_key.columns))
        rows[USER_TABLE] = await _referenced_users(session, by_name[USER_TABLE], tables, subtree)
    photos = await _read_photos(store, rows.get("photo", []))
    url = session.get_bind().engine.url
    return TenantExport(
        format=FORMAT, format_version=FORMAT_VERSION,
        source=Source(installation=socket.gethostname(),
                      database=f"{url.get_backend_name()}:{url.database}" if url else "",
                      yishi_version=_version(),
                      plugins={name: plugins.info[name].version for name in plugins.names}),
        exported_at=clock.now(), tenant=root.slug, parent=parent,
        tables={t.name: TableRows(columns=[c.name for c in _columns(t)],
                                  rows=[[row[c.name] for c in _columns(t)] for row in rows[t.name]])
                for t in tables if t.name in rows},
        photos=photos,
    )


async def _referenced_users(session: AsyncSession, users: Table, tables: list[Table],
                            subtree: Any) -> list[dict[str, Any]]:
    """Every user whose id appears in an exported row — members, authors, deputies, actors of events — so
    that every reference stays valid; found by the database in one query over every uuid column. Platform
    administration is a grant of the installation, not of the tenant, so it does not travel."""
    sources = [select(table.c[column.name].label("id")).where(table.c.tenant_id.in_(subtree))
               for table in tables if _is_tenant_table(table)
               for column in table.columns
               if _python_type(column) is uuid.UUID and column.name not in ("id", "tenant_id")]
    referenced = union(*sources).subquery()
    found = await _select(session, select(users).where(users.c.id.in_(select(referenced.c.id)))
                          .order_by(users.c.username))
    return [{**user, "platform_admin": False} for user in found]


async def _read_photos(store: PhotoStore, photos: list[dict[str, Any]]) -> dict[str, str]:
    found, missing = {}, []
    for photo in photos:
        try:
            content = await store.load(photo["storage_key"])
        except NotFound:
            missing.append(photo["storage_key"])
            continue
        found[photo["storage_key"]] = base64.b64encode(content).decode("ascii")
    if missing:
        raise NotFound("照片文件缺失（{count} 张，如 {example}）：请检查照片存储 {where}",
                       count=len(missing), example=missing[0], where=store.where)
    return found


def _version() -> str:
    try:
        return importlib.metadata.version("yishi")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def encode(document: TenantExport) -> bytes:
    return msgspec.json.encode(document)


# --- import ------------------------------------------------------------------------------------------------


def decode(raw: bytes) -> TenantExport:
    """Parse an export, refusing anything that is not one, or of a format version this program does not know."""
    try:
        header = msgspec.json.decode(raw, type=_Header)
    except (msgspec.DecodeError, msgspec.ValidationError):
        raise InvalidInput("这不是议事租户导出文件：不是一个 JSON 对象") from None
    if header.format != FORMAT:
        raise InvalidInput("这不是议事租户导出文件：format 应为 {expected}", expected=FORMAT)
    if header.format_version == 1:
        raise InvalidInput("导出格式版本 1 的事件链没有密钥，不能核验：请在原安装升级（yishi migrate）后重新导出")
    if header.format_version not in SUPPORTED_VERSIONS:
        known = ", ".join(str(v) for v in sorted(SUPPORTED_VERSIONS))
        raise InvalidInput("不认识导出格式版本 {version}（本程序认识：{known}），请用更新的议事导入",
                           version=repr(header.format_version), known=known)
    try:
        return msgspec.json.decode(raw, type=TenantExport)
    except msgspec.ValidationError as exc:
        raise InvalidInput("导出文件结构不对：{error}", error=str(exc)) from None


async def import_tenant(session: AsyncSession, document: TenantExport, store: PhotoStore,
                        parent_slug: str | None = None, tables: list[Table] | None = None,
                        source_audit_key: bytes | None = None, *, plugins: Plugins) -> ImportReport:
    """Load `document` in one transaction and commit it, or write nothing at all (no rows, no photo files).

    Ids are kept, so every reference inside stays valid. Refused: a slug or id that already exists, a user
    name taken by another account, a format version or table this installation does not know, rows outside
    the document's tenants, and an audit chain that does not verify once loaded.

    The chain's links are keyed with the exporting installation's audit key. Without `source_audit_key` it
    must be this installation's own (a restore, or installations that share YISHI_AUDIT_KEY); with it, each
    chain is verified under that key and re-linked under this installation's before anything is written.
    """
    written: list[str] = []
    try:
        report = await _load(session, document, store, parent_slug, tables or transfer_tables(), written,
                             source_audit_key, plugins)
        await session.commit()
        return report
    except BaseException:
        await session.rollback()
        for key in written:
            await store.delete(key)
        raise


async def _load(session: AsyncSession, document: TenantExport, store: PhotoStore, parent_slug: str | None,
                tables: list[Table], written: list[str], source_audit_key: bytes | None,
                plugins: Plugins) -> ImportReport:
    by_name = {t.name: t for t in tables}
    data = _decode_tables(document, by_name)
    tenants = data[TENANT_TABLE]
    root, old_parent_id = _check_tree(document, tenants)
    if source_audit_key is not None and source_audit_key != audit_key(session):
        _relink(data, tenants, source_audit_key, audit_key(session))
    ids = {t["id"] for t in tenants}
    await _refuse_existing_tenants(session, tenants)
    parent = await _new_parent(session, root, old_parent_id, parent_slug)
    _move_tree(tenants, root, parent)
    notes = _plugin_notes(tenants, plugins)
    users_new, users_reused = await _users(session, data[USER_TABLE])
    user_ids = {u["id"] for u in data[USER_TABLE]}
    for table in tables:
        if _is_tenant_table(table) and table.name in data:
            await _check_references(session, table, data[table.name], ids, user_ids, old_parent_id,
                                    parent.id if parent else None)
    photos = await _decode_photos(document, data.get("photo", []), store)

    await session.execute(insert(by_name[TENANT_TABLE]), sorted(tenants, key=lambda t: len(t["path"])))
    if users_new:
        await session.execute(insert(by_name[USER_TABLE]), users_new)
    counts = {TENANT_TABLE: len(tenants), USER_TABLE: len(users_new)}
    per_tenant: dict[uuid.UUID, dict[str, list[dict[str, Any]]]] = {t["id"]: {} for t in tenants}
    for table in tables:
        if _is_tenant_table(table):
            for row in data.get(table.name, ()):
                per_tenant[row["tenant_id"]].setdefault(table.name, []).append(row)
    for tenant in sorted(tenants, key=lambda t: t["path"]):
        # Each tenant's rows as that tenant: on PostgreSQL, Row-Level Security checks every insert.
        async with within(session, TenantContext(tenant["id"], tenant["path"])):
            for table in tables:
                if mine := per_tenant[tenant["id"]].get(table.name):
                    await session.execute(insert(table), mine)
                    counts[table.name] = counts.get(table.name, 0) + len(mine)
            # An export from before the fan-out's cursor (no such table in it): its events were told where they
            # happened, in their own transactions, and are not told again here.
            head = per_tenant[tenant["id"]].get("event_chain_head")
            if head and CURSOR_TABLE in by_name and CURSOR_TABLE not in data:
                await start_at_head(session, tenant["id"], head[0]["seq"])
    # Accounts this installation already had gain the imported roles: move their authz_version so that every
    # process reloads their grants on the next request.
    granted = {row["user_id"] for row in data.get("role_assignment", ())} - {u["id"] for u in users_new}
    if granted:
        await session.execute(update(User).where(User.id.in_(granted)).values(authz_version=User.authz_version + 1)
                              .execution_options(synchronize_session=False))
    # The figures kept per day (`core.reporting.tallies`): an export from before them is counted now, and the
    # tenants above the imported ones take the imported figures into their roll-ups.
    recount = [] if TALLY_TABLE in data or TALLY_TABLE not in by_name else list(
        (await session.scalars(select(Tenant).where(Tenant.id.in_(ids)))).all())
    if recount or parent is not None:
        await tallies.rebuild(session, [*recount, *([parent] if parent is not None else [])])
    verified = {}
    for tenant in tenants:
        async with within(session, TenantContext(tenant["id"], tenant["path"])):
            verified[tenant["slug"]] = await _verify(session, tenant["slug"])
    for key, content in photos:
        if not await store.exists(key):
            await store.put(key, content)
            written.append(key)
    return ImportReport(tenants=[t["slug"] for t in sorted(tenants, key=lambda t: t["path"])], rows=counts,
                        users_created=[u["username"] for u in users_new], users_reused=users_reused,
                        photos=len(photos), events_verified=verified, notes=notes)


def _decode_tables(document: TenantExport, by_name: dict[str, Table]) -> dict[str, list[dict[str, Any]]]:
    unknown = [name for name in document.tables if name not in by_name]
    if unknown:
        raise InvalidInput("本安装没有这些表：{tables}（缺少插件或版本较旧？）", tables=", ".join(unknown))
    for required in (TENANT_TABLE, USER_TABLE):
        if required not in document.tables:
            raise InvalidInput("导出文件缺少表 {table}", table=required)
    data: dict[str, list[dict[str, Any]]] = {}
    for name, content in document.tables.items():
        table = by_name[name]
        strange = [c for c in content.columns if c not in table.c]
        if strange:
            raise InvalidInput("表 {table} 在本安装没有这些列：{columns}", table=name, columns=", ".join(strange))
        missing = [c.name for c in _columns(table) if c.name not in content.columns and not c.nullable
                   and c.default is None and c.server_default is None]
        if missing:
            raise InvalidInput("导出文件中表 {table} 缺少必需的列：{columns}", table=name, columns=", ".join(missing))
        converters = [(i, column, _decoder(table.c[column])) for i, column in enumerate(content.columns)]
        rows = []
        for values in content.rows:
            if len(values) != len(content.columns):
                raise InvalidInput("表 {table} 有一行的列数不对", table=name)
            try:
                rows.append({column: (convert(values[i]) if convert and values[i] is not None else values[i])
                             for i, column, convert in converters})
            except (TypeError, ValueError):
                raise InvalidInput("表 {table} 有一行的值无法识别", table=name) from None
        data[name] = rows
    return data


def _check_tree(document: TenantExport, tenants: list[dict[str, Any]]) -> tuple[dict[str, Any], uuid.UUID | None]:
    """The root named by the document, and every other tenant under it with the path its parent gives it (the
    paths are what subtree reads and Row-Level Security go by); returns the root and its old parent."""
    roots = [t for t in tenants if t["slug"] == document.tenant]
    if len(roots) != 1:
        raise InvalidInput("导出文件中没有租户 {slug} 本身", slug=document.tenant)
    root = roots[0]
    by_id = {t["id"]: t for t in tenants}
    if not root["path"].endswith(f"/{root['id'].hex}/"):
        raise InvalidInput("租户 {slug} 的路径不对", slug=root["slug"])
    for tenant in tenants:
        parent = by_id.get(tenant["parent_id"])
        if tenant is not root and (parent is None or tenant["path"] != f"{parent['path']}{tenant['id'].hex}/"):
            raise InvalidInput("租户 {slug} 不在 {root} 之下", slug=tenant["slug"], root=root["slug"])
    return root, root["parent_id"]


async def _refuse_existing_tenants(session: AsyncSession, tenants: list[dict[str, Any]]) -> None:
    slugs = [t["slug"] for t in tenants]
    taken = (await session.scalars(select(Tenant.slug).where(Tenant.slug.in_(slugs)))).all()
    if taken:
        raise Conflict("本安装已有这些租户：{slugs}（已导入过？），未写入任何数据", slugs=", ".join(sorted(taken)))
    same_ids = (await session.scalars(select(Tenant.slug).where(Tenant.id.in_([t["id"] for t in tenants])))).all()
    if same_ids:
        raise Conflict("本安装已有相同编号的租户：{slugs}，未写入任何数据", slugs=", ".join(sorted(same_ids)))


async def _new_parent(session: AsyncSession, root: dict[str, Any], old_parent_id: uuid.UUID | None,
                      parent_slug: str | None) -> Tenant | None:
    """The tenant the imported tree hangs under: --parent, else its old parent if this installation has it."""
    if parent_slug is not None:
        parent = await session.scalar(select(Tenant).where(Tenant.slug == parent_slug))
        if parent is None:
            raise NotFound("没有租户 {slug}", slug=parent_slug)
    else:
        parent = await session.scalar(select(Tenant).where(Tenant.id == old_parent_id)) if old_parent_id else None
    allowed = ALLOWED_PARENT_KINDS.get(root["kind"], set())
    if parent is None:
        if None not in allowed:
            raise InvalidInput("{slug} 须挂在上级之下：请用 --parent 指定（{kinds}）", slug=root["slug"],
                               kinds=tuple(sorted(k for k in allowed if k)))
        return None
    if parent.archived:
        raise Conflict("租户 {slug} 已归档，不能挂入新的下级", slug=parent.slug)
    if parent.kind not in allowed:
        raise InvalidInput("{kind} 不能挂在 {parent_kind} {parent} 之下", kind=root["kind"], parent_kind=parent.kind,
                           parent=parent.slug)
    return parent


def _move_tree(tenants: list[dict[str, Any]], root: dict[str, Any], parent: Tenant | None) -> None:
    """Re-root the paths under the new parent (the same one, when restoring into the same installation)."""
    old_prefix = root["path"]
    new_prefix = f"{parent.path if parent else '/'}{root['id'].hex}/"
    root["parent_id"] = parent.id if parent else None
    for tenant in tenants:
        tenant["path"] = new_prefix + tenant["path"][len(old_prefix):]


def _plugin_notes(tenants: list[dict[str, Any]], plugins: Plugins) -> list[str]:
    installed = set(plugins.names)
    return [f"租户 {t['slug']} 启用的插件 {name} 在本安装未安装" for t in tenants for name in t.get("plugins") or ()
            if name not in installed]


async def _users(session: AsyncSession, users: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """Users new to this installation, and those it already has (same id and name: left as they are)."""
    ids = [u["id"] for u in users]
    names = [u["username"] for u in users]
    existing: dict[uuid.UUID, str] = {}
    taken: dict[str, uuid.UUID] = {}
    for start in range(0, len(users), _CHUNK):
        existing.update((await session.execute(select(User.id, User.username)
                                               .where(User.id.in_(ids[start:start + _CHUNK])))).all())
        taken.update((await session.execute(select(User.username, User.id)
                                            .where(User.username.in_(names[start:start + _CHUNK])))).all())
    clashes = sorted(u["username"] for u in users
                     if (u["id"] in existing and existing[u["id"]] != u["username"])
                     or (u["username"] in taken and taken[u["username"]] != u["id"]))
    if clashes:
        raise Conflict("本安装已有同名的其他用户：{users}，未写入任何数据", users=", ".join(clashes))
    for user in users:
        user["platform_admin"] = False  # never granted by a file
    return [u for u in users if u["id"] not in existing], sorted(u["username"] for u in users if u["id"] in existing)


async def _check_references(session: AsyncSession, table: Table, rows: list[dict[str, Any]], ids: set[uuid.UUID],
                            user_ids: set[uuid.UUID], old_parent_id: uuid.UUID | None,
                            new_parent_id: uuid.UUID | None) -> None:
    """Rows stay inside the document's tenants; their references to tenants and users resolve here.

    A reference to the old parent (a concern escalated one level up) follows the tree to its new parent.
    """
    if any(row["tenant_id"] not in ids for row in rows):
        raise InvalidInput("表 {table} 有不属于导出租户的行", table=table.name)
    for column in _references(table, TENANT_TABLE):
        outside = {row[column] for row in rows if row[column] is not None and row[column] not in ids}
        if outside - {old_parent_id}:
            raise InvalidInput("表 {table} 的 {column} 引用了导出范围以外的租户", table=table.name, column=column)
        if outside:
            if new_parent_id is None:
                raise InvalidInput("表 {table} 有 {column} 指向原上级的行（如已上报的诉求）：请用 --parent 指定新的上级",
                                   table=table.name, column=column)
            for row in rows:
                if row[column] == old_parent_id:
                    row[column] = new_parent_id
    for column in _references(table, USER_TABLE):
        unknown = {row[column] for row in rows if row[column] is not None and row[column] not in user_ids}
        if unknown and len(set((await session.scalars(select(User.id).where(User.id.in_(unknown)))).all())) != len(unknown):
            raise InvalidInput("表 {table} 的 {column} 引用了导出文件与本安装都没有的用户", table=table.name, column=column)


async def _decode_photos(document: TenantExport, photos: Iterable[dict[str, Any]],
                         store: PhotoStore) -> list[tuple[str, bytes]]:
    files = []
    for photo in photos:
        key = photo["storage_key"]
        match = PHOTO_KEY.fullmatch(key)
        if match is None or match["tenant"] != photo["tenant_id"].hex:
            raise InvalidInput("照片存储键不合规：{key}", key=repr(key))
        try:
            content = base64.b64decode(document.photos[key], validate=True)
        except KeyError:
            raise InvalidInput("导出文件缺少照片 {key}", key=key) from None
        except binascii.Error:
            raise InvalidInput("照片 {key} 的内容不是 base64", key=key) from None
        if len(content) != photo["size"]:
            raise InvalidInput("照片 {key} 的大小与记录不符", key=key)
        if await store.exists(key) and await store.load(key) != content:
            raise Conflict("照片存储中已有内容不同的 {key}，未写入任何数据", key=key)
        files.append((key, content))
    return files


def _relink(data: dict[str, list[dict[str, Any]]], tenants: list[dict[str, Any]], source_key: bytes,
            key: bytes) -> None:
    """Each tenant's chain verified under the exporting installation's key, then re-linked under this one's."""
    for tenant in tenants:
        events = [row for row in data.get("workflow_event", ()) if row["tenant_id"] == tenant["id"]]
        head = next((row for row in data.get("event_chain_head", ()) if row["tenant_id"] == tenant["id"]), None)
        if (broken := relink(events, head, source_key, key)) is not None:
            raise Conflict("租户 {slug} 的事件链第 {seq} 条断链：{reason}；未写入任何数据", slug=tenant["slug"],
                           seq=broken.seq, reason=broken.reason)


async def _verify(session: AsyncSession, slug: str) -> int:
    """Walk the imported chain up to its head (so the next event continues it)."""
    checked, broken = await verify_chain(session)
    if broken is not None:
        raise Conflict("租户 {slug} 的事件链第 {seq} 条断链：{reason}；未写入任何数据（导出自另一个安装时，请用 YISHI_SOURCE_AUDIT_KEY 给出那边的审计密钥）",  # noqa: E501
                       slug=slug, seq=broken.seq, reason=broken.reason)
    return checked
