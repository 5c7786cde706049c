"""Filing once without an account: a resident proves their phone by a code (asked for with the purpose `file`),
accepts the community's privacy notice, and files one concern, which names the phone and no account. The code
is spent by the filing, so each further concern needs a new code (and the codes' throttles apply); joining or
signing in later with that phone claims the concern (`core.accounts.joining`)."""

from __future__ import annotations

import re
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.joining import privacy_notice
from core.accounts.services import phone_problems
from core.accounts.verification import check_code
from core.concerns.models import Concern
from core.concerns.schemas import ConcernCreate
from core.concerns.services import NewConcern, checked_filing, clean_text
from core.errors import Conflict, InvalidInput, Problems
from core.i18n import Label
from core.idempotency import Claim
from core.tenancy.models import Tenant

CHANNEL = "portal"
CODE_RE = re.compile(r"^\s*\d{6}\s*$")
# Whose Idempotency-Keys a filing by phone is kept under: there is no account to key them by. A retry is
# answered as its first attempt only for the very same body (code and phone included), so nobody else's
# answer can be replayed to a client that merely reuses a key.
PHONE_FILERS = uuid.UUID(int=0)


async def file_by_phone(session: AsyncSession, tenant: Tenant, data: ConcernCreate, *, phone: str, code: str,
                        name: str | None, accept_privacy: bool, privacy_version: str, secret: str,
                        claim: Claim | None = None) -> Concern:
    """File `data` in `tenant` (a community; the session acts in it) for the person who holds `phone`, with no
    account. Every field is checked, and every refusal names its field, before the code is spent."""
    if tenant.kind != "community":
        raise InvalidInput("只能向社区反映诉求；请从所在社区的页面反映", field="tenant")
    problems = Problems()  # every bad field at once
    for refused in phone_problems(phone):
        problems.add(refused)
    if not CODE_RE.fullmatch(code):
        problems.add(InvalidInput("请输入短信中的 6 位验证码", field="code"))
    name = problems.take(clean_text, name, "name", Label("姓名"), 50, required=False)
    if not accept_privacy:
        problems.add(InvalidInput("请阅读并同意隐私政策后再反映", field="accept_privacy"))
    fields = await checked_filing(session, data, problems)
    problems.raise_any()
    notice = privacy_notice(tenant)
    if privacy_version != notice.version:
        raise Conflict("隐私政策已更新，请阅读新版本后再同意", field="accept_privacy")
    await check_code(session, phone, "file", code, secret)
    # The notice's version goes into the event (the consent, on the record); the phone and the name never do.
    return await NewConcern(session, tenant, None).write(
        "concern.filed", {"channel": CHANNEL, "by_phone": True, "privacy_version": notice.version}, claim,
        **fields, channel=CHANNEL, filed_by_id=None, resident_id=None, resident_name=name, resident_phone=phone)
