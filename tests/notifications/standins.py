"""Local stand-ins for the providers the channels talk to, real HTTP servers on 127.0.0.1: Aliyun's SMS API, which
checks every request as Aliyun does (its signature recomputed from the query received and the known secret), and
a webhook receiver that records what it was sent."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import string
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from core import clock
from core.notifications.messages import TEXTS

COMMON = ("AccessKeyId", "Action", "Format", "RegionId", "SignatureMethod", "SignatureNonce", "SignatureVersion",
          "Timestamp", "Version", "Signature")
SEND_SMS = ("PhoneNumbers", "SignName", "TemplateCode", "TemplateParam")


def _aliyun_encode(value: str) -> str:
    # Written out here rather than imported: the stand-in checks the channel, so it must not share its code.
    return quote(value.encode(), safe="").replace("+", "%20").replace("*", "%2A").replace("%7E", "~")


def registered_templates() -> dict[str, list[str]]:
    """The templates "approved" at the provider: one per kind, its variables the zh-CN text's placeholders."""
    templates = {}
    for kind, texts in TEXTS.items():
        body = texts["zh-CN"][1]
        templates["SMS_YISHI_" + kind.upper().replace(".", "_")] = sorted(
            {name for _text, name, _spec, _conv in string.Formatter().parse(body) if name})
    return templates


@dataclass
class SmsProvider:
    """What the stand-in knows (its account, signature names, templates), what it accepted, what it will refuse."""

    access_key_id: str = "LTAI5tYishiTest"
    access_key_secret: str = "yishi-test-secret-0123456789"  # noqa: S105 (the stand-in's own)
    sign_names: set[str] = field(default_factory=lambda: {"议事"})
    templates: dict[str, list[str]] = field(default_factory=registered_templates)
    accepted: list[dict[str, str]] = field(default_factory=list)  # each accepted request's parameters
    refused: list[str] = field(default_factory=list)  # the Code of each refused one
    fail_next: int = 0  # answer isv.BUSINESS_LIMIT_CONTROL to this many requests
    url: str = ""  # YISHI_SMS_URL for the stand-in
    nonces: set[str] = field(default_factory=set)

    def answer(self, query: str) -> tuple[int, dict[str, Any]]:
        request_id = str(uuid.uuid4()).upper()
        params = dict(parse_qsl(query, keep_blank_values=True))
        code, status, message = self._check(params, query)
        if code != "OK":
            self.refused.append(code)
            return status, {"Code": code, "Message": message, "RequestId": request_id}
        self.accepted.append(params)
        biz_id = f"{len(self.accepted):06d}^{uuid.uuid4().int % 10**10}"
        return 200, {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": request_id}

    def _check(self, params: dict[str, str], query: str) -> tuple[str, int, str]:
        for name in COMMON:
            if not params.get(name):
                return f"Missing{name}", 400, f"{name} is mandatory for this action."
        if params["AccessKeyId"] != self.access_key_id:
            return "InvalidAccessKeyId.NotFound", 404, "Specified access key is not found."
        if (params["SignatureMethod"], params["SignatureVersion"], params["Format"]) != ("HMAC-SHA1", "1.0", "JSON"):
            return "InvalidParameter", 400, "SignatureMethod, SignatureVersion or Format is not supported."
        given = params.pop("Signature")
        canonical = "&".join(f"{_aliyun_encode(k)}={_aliyun_encode(v)}" for k, v in sorted(params.items()))
        to_sign = "GET&%2F&" + _aliyun_encode(canonical)
        expected = base64.b64encode(hmac.new(f"{self.access_key_secret}&".encode(), to_sign.encode(),
                                             hashlib.sha1).digest()).decode()
        if not hmac.compare_digest(given, expected):
            return "SignatureDoesNotMatch", 400, f"Specified signature is not matched with our calculation. server string to sign is:{to_sign}"
        try:
            at = datetime.datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)
        except ValueError:
            return "InvalidTimeStamp.Format", 400, "Specified time stamp or date value is not well formatted."
        # The provider's clock is the suite's: a test that stops the clock stops it here too.
        if abs((clock.now() - at).total_seconds()) > 900:
            return "InvalidTimeStamp.Expired", 400, "Specified time stamp or date value is expired."
        if params["SignatureNonce"] in self.nonces:
            return "SignatureNonceUsed", 400, "Specified signature nonce was used already."
        self.nonces.add(params["SignatureNonce"])
        if (params["Action"], params["Version"]) != ("SendSms", "2017-05-25"):
            return "InvalidAction.NotFound", 400, "Specified api is not found, please check your url and method."
        for name in SEND_SMS:
            if not params.get(name):
                return f"Missing{name}", 400, f"{name} is mandatory for this action."
        if params["SignName"] not in self.sign_names:
            return "isv.SMS_SIGNATURE_ILLEGAL", 200, "签名不合法（不存在或被拉黑）"
        if params["TemplateCode"] not in self.templates:
            return "isv.SMS_TEMPLATE_ILLEGAL", 200, "模板不合法（不存在或被拉黑）"
        if not all(p.isdigit() and len(p) == 11 for p in params["PhoneNumbers"].split(",")):
            return "isv.MOBILE_NUMBER_ILLEGAL", 200, "非法手机号"
        try:
            values = json.loads(params["TemplateParam"])
        except ValueError:
            return "isv.INVALID_JSON_PARAM", 200, "JSON参数不合法，只接受字符串值"
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            return "isv.INVALID_JSON_PARAM", 200, "JSON参数不合法，只接受字符串值"
        if sorted(values) != self.templates[params["TemplateCode"]]:
            return "isv.TEMPLATE_MISSING_PARAMETERS", 200, "模板变量缺少对应参数值"
        if any(len(v) > 35 for v in values.values()):
            return "isv.PARAM_LENGTH_LIMIT", 200, "参数超出长度限制"
        if self.fail_next > 0:
            self.fail_next -= 1
            return "isv.BUSINESS_LIMIT_CONTROL", 200, "触发号码天级流控Permits:10"
        return "OK", 200, "OK"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookReceiver:
    """A tenant's system receiving webhooks: records each request; answers `statuses` in turn, then 200."""

    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    url: str = ""

    def answer(self, received: Received) -> int:
        self.received.append(received)
        return self.statuses.pop(0) if self.statuses else 200


class _Quiet(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the stdlib's name)
        """Silent: the stand-ins' requests are what the tests read, not a log line each on stderr."""

    def _reply(self, status: int, body: bytes, content_type: str = "application/json;charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def _serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def sms_provider(provider: SmsProvider | None = None) -> Iterator[SmsProvider]:
    """Aliyun's dysmsapi on a local port; `provider.url` is the YISHI_SMS_URL that reaches it."""
    provider = provider or SmsProvider()
    lock = threading.Lock()

    class Handler(_Quiet):
        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            with lock:
                status, answer = provider.answer(urlsplit(self.path).query)
            self._reply(status, json.dumps(answer, ensure_ascii=False).encode())

    with _serving(Handler) as where:
        provider.url = (f"aliyun://{provider.access_key_id}:{provider.access_key_secret}@{where}"
                        f"?sign={quote('议事')}&scheme=http")
        yield provider


@contextmanager
def webhook_receiver(receiver: WebhookReceiver | None = None) -> Iterator[WebhookReceiver]:
    receiver = receiver or WebhookReceiver()
    lock = threading.Lock()

    class Handler(_Quiet):
        def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                status = receiver.answer(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            self._reply(status, b'{"ok": true}' if status < 300 else b'{"error": "unavailable"}')

    with _serving(Handler) as where:
        receiver.url = f"http://{where}/hooks/yishi"
        yield receiver
