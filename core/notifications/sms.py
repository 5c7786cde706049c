"""SMS through a provider's HTTP API (`YISHI_SMS_URL`)."""

from __future__ import annotations

from core.notifications.channels import Address, DeliveryError, Message
from core.settings import Settings


class Sms:
    name = "sms"
    per_second = 10.0

    def __init__(self, settings: Settings) -> None:
        self.url = settings.sms_url

    def configured(self) -> bool:
        return bool(self.url)

    async def send(self, message: Message, to: Address) -> str:
        raise DeliveryError("SMS provider not implemented yet")
