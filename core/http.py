"""Per-request plumbing shared by every controller: the database session, the signed-in user, the tenant scope."""

from __future__ import annotations

import datetime
import ipaddress
import uuid
from collections import OrderedDict
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import ClientException, NotAuthorizedException
from litestar.middleware.authentication import AuthenticationResult
from litestar.params import FromPath, QueryParameter
from litestar.response.base import ASGIResponse
from litestar.security.jwt import JWTAuthenticationMiddleware, Token
from litestar.types import ASGIApp, Receive, Send
from litestar.types import Scope as ASGIScope
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import User
from core.accounts.sign_ins import record_sign_in
from core.authz.authorizer import Grants
from core.errors import Conflict, NotFound, Unauthenticated
from core.events import PLUGINS_KEY
from core.media import discard_rolled_back
from core.observability import bind_request
from core.tenancy import scope as tenant_scope
from core.tenancy.models import Tenant
from core.tenancy.scope import TenantScope, open_scope

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

DbSession = NamedDependency[AsyncSession]
# Paging stays within what both databases' integers hold (SQLite's and PostgreSQL's are 64-bit).
MAX_OFFSET = 1_000_000_000
Limit = Annotated[int, QueryParameter(ge=1, le=200, description="每页条数（1–200）")]
Offset = Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET, description="跳过的条数")]
Cursor = Annotated[str | None, QueryParameter(max_length=400, description="上一页返回的 next_cursor（与 offset 二选一）")]
PageNumber = Annotated[int, QueryParameter(le=MAX_OFFSET // 200, description="页码")]  # below 1 is page 1


class YishiRequest(Request[Any, Any, Any]):
    """A request whose JSON body, however hostile, is refused with a 400 rather than crashing the decoder."""

    async def json(self) -> Any:
        try:
            return await super().json()
        except RecursionError:
            raise ClientException("请求体 JSON 嵌套过深") from None


def refuse_nul(app: ASGIApp) -> ASGIApp:
    """A NUL in a path or query string names nothing here, and PostgreSQL cannot compare text with one: 400,
    before any route sees it (bodies are checked by their schemas, `core.inputs`)."""

    async def middleware(scope: ASGIScope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and ("\x00" in scope["path"] or b"%00" in scope["query_string"]
                                        or b"\x00" in scope["query_string"]):
            response = ASGIResponse(body='{"status":400,"title":"请求无效","detail":"网址中不能包含空字符"}'.encode(),
                                    status_code=400, media_type="application/problem+json")
            await response(scope, receive, send)
            return
        await app(scope, receive, send)

    return middleware


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in user, as the token names them (checked against the database on each request): who,
    and the session version the token was issued under (signing out moves the user's, voiding the token)."""

    user_id: uuid.UUID
    session_version: int = 0


SESSION_VERSION_CLAIM = "sv"


def principal_of(token: Token) -> Principal | None:
    """The principal a valid token of ours names, or None for one whose claims are not ours."""
    version = token.extras.get(SESSION_VERSION_CLAIM, 0)
    if not isinstance(version, int) or isinstance(version, bool):
        return None
    try:
        return Principal(uuid.UUID(token.sub), version)
    except ValueError:
        return None


# Verifying a token (base64, JSON, HMAC, claims) is a tenth of a millisecond on every API request. A token that
# verified once stays good until it expires — signing out or deactivation voids it in the database, which every
# request checks anyway — so each process keeps the last tokens it verified and checks only their expiry.
_VERIFIED: OrderedDict[tuple[str, str, tuple[str, ...] | str | None], Token] = OrderedDict()
VERIFIED_TOKENS_KEPT = 10_000


def verified_token(raw: str, secret: str, audience: tuple[str, ...] | str | None, decode: Any) -> Token:
    """`decode()`'s token for `raw` (signed with `secret` for `audience`), or the one it gave before if that has
    not expired since. Only tokens that verified are kept: a forged one is checked, and refused, every time."""
    key = (raw, secret, audience)
    token = _VERIFIED.get(key)
    if token is not None and token.exp > datetime.datetime.now(datetime.UTC):
        _VERIFIED.move_to_end(key)
        return token
    token = decode()
    _VERIFIED[key] = token
    if len(_VERIFIED) > VERIFIED_TOKENS_KEPT:
        _VERIFIED.popitem(last=False)
    return token


class RememberingJWTMiddleware(JWTAuthenticationMiddleware):
    """Litestar's bearer-token middleware, verifying each token once per process (`verified_token`)."""

    async def authenticate_token(self, encoded_token: str, connection: ASGIConnection[Any, Any, Any, Any]
                                 ) -> AuthenticationResult:
        audience = self.token_audience if isinstance(self.token_audience, str | None) else tuple(self.token_audience)
        token = verified_token(encoded_token, self.token_secret, audience, lambda: self.token_cls.decode(
            encoded_token=encoded_token, secret=self.token_secret, algorithm=self.algorithm,
            audience=self.token_audience, issuer=self.token_issuer, require_claims=self.require_claims,
            verify_exp=self.verify_expiry, verify_nbf=self.verify_not_before, strict_audience=self.strict_audience))
        user = await self.retrieve_user_handler(token, connection)
        if not user:
            raise NotAuthorizedException()
        return AuthenticationResult(user=user, auth=token)


def bearer_principal(request: Request) -> Principal | None:
    """On a public route (no sign-in required), the principal of the request's bearer token, if it sent one; a
    token that is not a valid one of ours is refused, not taken for no one."""
    scheme, _, raw = request.headers.get("authorization", "").partition(" ")
    if not scheme:
        return None
    settings = request.app.state.settings
    try:
        if scheme.lower() != "bearer":
            raise NotAuthorizedException
        raw = raw.strip()
        principal = principal_of(verified_token(raw, settings.secret_key, settings.token_audience, lambda: Token.decode(
            raw, settings.secret_key, "HS256", audience=settings.token_audience)))
    except NotAuthorizedException:
        principal = None
    if principal is None:
        raise Unauthenticated("登录已失效，请重新登录")
    return principal


async def principal_from_token(token: Token, connection: ASGIConnection) -> Principal | None:
    # No query here: the request's own lookup of the user (enter_tenant, /me) also compares the version.
    return principal_of(token)


def issue_token(request: Request, user: User) -> tuple[str, datetime.timedelta]:
    """A signed access token for `user`'s current session version (the API's bearer, the portal's cookie)."""
    settings = request.app.state.settings
    lifetime = datetime.timedelta(minutes=settings.token_minutes)
    token = request.app.state.jwt_auth.create_token(
        identifier=str(user.id), token_expiration=lifetime, token_audience=settings.token_audience,
        token_extras={SESSION_VERSION_CLAIM: user.session_version},
    )
    return token, lifetime


async def start_session(request: Request, session: AsyncSession, user: User,
                        method: str) -> tuple[str, datetime.timedelta]:
    """A token for a person who has just signed in (`method`: password, code, join), their sign-in logged for
    their own list of recent ones. Only where a session starts: a token re-issued after a change is
    `issue_token`'s."""
    await record_sign_in(session, user, method, client_address(request), request.headers.get("user-agent", ""))
    return issue_token(request, user)


def client_address(request: Request) -> str:
    """The client's address: the peer's, unless the peer is one of YISHI_TRUSTED_PROXIES, when it is the last
    address in X-Forwarded-For that no trusted proxy added (anything before it the client could have written)."""
    peer = request.client.host if request.client else "unknown"
    trusted = request.app.state.settings.trusted_proxies
    if not trusted or not _within(peer, trusted):
        return peer
    hops = [hop.strip() for value in request.headers.getall("x-forwarded-for", []) for hop in value.split(",")]
    for hop in reversed(hops):
        if not _within(hop, trusted):
            return hop if _is_address(hop) else peer
        peer = hop
    return peer


def _within(address: str, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


async def provide_db_session(state: State) -> AsyncGenerator[AsyncSession, None]:
    """One session and transaction per request, committed before the response is sent."""
    async with state.sessionmaker() as session:
        session.info[PLUGINS_KEY] = state.plugins
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
        finally:
            await discard_rolled_back(session)  # photos stored for rows that were not committed


async def current_grants(request: Request, session: AsyncSession) -> Grants:
    """The signed-in user's grants, for a route outside any tenant (opening a top-level tenant)."""
    principal: Principal = request.user
    grants = await tenant_scope.current_grants(session, request.app.state.authorizer, principal.user_id,
                                               principal.session_version)
    if grants is None:
        raise Unauthenticated("账号不存在或已停用，请重新登录")
    return grants


async def enter_tenant(request: Request, session: AsyncSession, slug: str, action: str | None,
                       principal: Principal | None = None) -> TenantScope:
    """The request's tenant scope (`core.tenancy.scope.open_scope`), with `action` authorized there (by the
    caller, when `action` is None: a portal page decides several actions on one entry). The user is the
    token's (the API) unless given (the portal, whose session cookie names them)."""
    principal = principal or request.user
    scope = await open_scope(session, slug, principal.user_id, principal.session_version,
                             request.app.state.authorizer)
    bind_request(tenant=scope.tenant.slug, user_id=principal.user_id)
    if action is None:
        return scope
    scope.require(action)
    if scope.tenant.archived and request.method not in READ_METHODS and action != "tenant.update":
        raise Conflict("租户 {slug} 已归档，只能查看", slug=slug)
    return scope


async def provide_tenant_scope(request: Request, db_session: DbSession, slug: FromPath[str]) -> TenantScope:
    """Dependency for routes under /api/v1/tenants/{slug}: the route declares its action in `opt`."""
    opt = request.route_handler.opt
    action: Any = opt.get("action")
    if not action:
        raise RuntimeError(f"route {request.route_handler} declares no action")
    scope = await enter_tenant(request, db_session, slug, action)
    require_plugin(scope.tenant, opt.get("plugin"))
    return scope


def require_plugin(tenant: Tenant, plugin: str | None) -> None:
    """A mechanism the tenant has not switched on does not exist there: its routes and feeds answer 404."""
    if plugin is not None and plugin not in (tenant.plugins or ()):
        raise NotFound("租户 {slug} 未启用插件 {plugin}", slug=tenant.slug, plugin=plugin)


Scope = NamedDependency[TenantScope]


async def provide_public_tenant(db_session: DbSession, slug: FromPath[str]) -> Tenant:
    """Dependency for routes anyone may read (/api/v1/tenants/{slug}/public/…, public feeds): the tenant, not
    archived, entered for a reader no role authorizes."""
    tenant = await db_session.scalar(select(Tenant).where(Tenant.slug == slug, Tenant.archived.is_(False)))
    if tenant is None:
        raise NotFound("没有租户 {slug}", slug=slug)
    await tenant_scope.enter(db_session, tenant)
    return tenant


PublicTenant = NamedDependency[Tenant]
