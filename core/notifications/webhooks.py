"""Webhooks: a tenant's own URL receives its notifications as signed JSON."""

from __future__ import annotations

from core.notifications.channels import Address, DeliveryError, Message
from core.settings import Settings


class Webhook:
    name = "webhook"
    per_second = 20.0

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def configured(self) -> bool:
        return True

    async def send(self, message: Message, to: Address) -> str:
        raise DeliveryError("webhooks not implemented yet")


async def webhook_address(session: object, webhook_id: object) -> Address | None:
    return None
