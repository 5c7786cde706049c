"""SMS through Aliyun's SMS service (dysmsapi `SendSms`), signed as its RPC API requires (`YISHI_SMS_URL`).

`YISHI_SMS_URL` is `aliyun://AccessKeyId:AccessKeySecret@dysmsapi.aliyuncs.com?sign=议事`, where `sign` is the
approved signature name (签名) shown in brackets before each message. Optional query flags: `region` (default
cn-hangzhou), `scheme=http` (a local stand-in only; the real endpoint is https).

Chinese SMS providers send only pre-approved templates (模板), each with named variables: a message's kind is
sent as template `SMS_YISHI_<KIND>` (`concern.accepted` → `SMS_YISHI_CONCERN_ACCEPTED`) unless
`YISHI_SMS_TEMPLATES` maps the kind to the code Aliyun approved; the variables are the placeholders of the
kind's zh-CN text (`core.notifications.messages`), each cut to Aliyun's 35 characters. They come from the rules'
facts, public summaries that never name another person.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import string
import uuid
from urllib.parse import parse_qs, quote, unquote, urlsplit

import httpx

from core import clock
from core.notifications.channels import Address, DeliveryError, Message
from core.notifications.messages import DEFAULT_LANGUAGE, TEXTS, when
from core.settings import Settings

API_VERSION = "2017-05-25"
DEFAULT_REGION = "cn-hangzhou"
PARAM_LIMIT = 35  # characters per template variable (Aliyun's limit for notification templates)
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def percent_encode(value: str) -> str:
    """Aliyun's encoding of a name or value: RFC 3986 unreserved characters (A-Z a-z 0-9 - _ . ~) kept, every
    other byte of its UTF-8 as %XX, so a space is %20 (not +), `*` is %2A and `~` stays."""
    return quote(value, safe="-_.~")


def canonical_query(params: dict[str, str]) -> str:
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))


def signature(secret: str, params: dict[str, str], method: str = "GET") -> str:
    """Signature version 1.0: base64(HMAC-SHA1(secret + "&", METHOD&%2F&encode(canonical query)))."""
    to_sign = f"{method}&{percent_encode('/')}&{percent_encode(canonical_query(params))}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def default_template(kind: str) -> str:
    return "SMS_YISHI_" + kind.upper().replace(".", "_")


def template_keys(kind: str) -> list[str]:
    """The variables of the kind's template: the placeholders of its zh-CN body, in order."""
    body = TEXTS[kind][DEFAULT_LANGUAGE][1] if kind in TEXTS else ""
    return list(dict.fromkeys(name for _text, name, _spec, _conv in string.Formatter().parse(body) if name))


def template_params(kind: str, params: dict[str, str]) -> dict[str, str]:
    """The template's variables from the message's parameters, each within Aliyun's limit."""
    values = dict(params)
    if values.get("starts_at"):
        values["when"] = when(values["starts_at"])
    return {key: str(values.get(key) or "")[:PARAM_LIMIT] for key in template_keys(kind)}


class Sms:
    """Aliyun `SendSms`: one signed GET per message; the provider's BizId is the message id."""

    name = "sms"
    per_second = 10.0

    def __init__(self, settings: Settings) -> None:
        self.url = settings.sms_url
        self.templates = settings.sms_template_codes
        parts = urlsplit(self.url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.access_key_id = unquote(parts.username or "")
        self.access_key_secret = unquote(parts.password or "")
        self.sign_name = query.get("sign", "")
        self.region = query.get("region", DEFAULT_REGION)
        host = parts.hostname or "dysmsapi.aliyuncs.com"
        self.endpoint = f"{query.get('scheme', 'https')}://{host}{f':{parts.port}' if parts.port else ''}/"

    def configured(self) -> bool:
        return bool(self.url)

    def template(self, kind: str) -> str:
        return self.templates.get(kind) or default_template(kind)

    def request(self, message: Message, to: Address) -> dict[str, str]:
        """The signed query of one SendSms call (a fresh nonce and timestamp each time)."""
        params = {
            "AccessKeyId": self.access_key_id, "Action": "SendSms", "Format": "JSON", "RegionId": self.region,
            "SignatureMethod": "HMAC-SHA1", "SignatureNonce": str(uuid.uuid4()), "SignatureVersion": "1.0",
            "Timestamp": clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"), "Version": API_VERSION,
            "PhoneNumbers": to.phone or "", "SignName": self.sign_name, "TemplateCode": self.template(message.kind),
            "TemplateParam": json.dumps(template_params(message.kind, message.params), ensure_ascii=False,
                                        separators=(",", ":")),
            # Ours, echoed in Aliyun's delivery receipts: which notification a receipt is about.
            "OutId": str(message.notification_id),
        }
        return {**params, "Signature": signature(self.access_key_secret, params)}

    async def send(self, message: Message, to: Address) -> str:
        if not to.phone:
            raise DeliveryError("SMS: 没有手机号")
        params = self.request(message, to)
        # Encoded by Aliyun's rules ourselves: httpx's own encoding turns a space into "+", which the provider's
        # signature check would read differently from what we signed.
        url = f"{self.endpoint}?Signature={percent_encode(params.pop('Signature'))}&{canonical_query(params)}"
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT) as client:
                response = await client.get(url)
        except httpx.HTTPError as failed:
            raise DeliveryError(f"SMS: {type(failed).__name__}: {failed}") from failed
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        if response.status_code >= 400 or answer.get("Code") != "OK" or not answer.get("BizId"):
            raise DeliveryError(f"SMS: HTTP {response.status_code} {answer.get('Code', '')}: "
                                f"{answer.get('Message', response.text[:200])}")
        return str(answer["BizId"])
