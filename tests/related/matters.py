"""What the tests of related concerns share: a few matters residents raise, and filing them through the API."""

from __future__ import annotations

from httpx import AsyncClient

ROOF = {"title": "14号楼楼顶垃圾漏水", "description": "14号楼楼顶堆了很多装修垃圾，下雨后顶楼住户家里漏水",
        "category": "environment"}
LAMP = {"title": "东门路灯不亮", "description": "小区东门的路灯坏了好几天，晚上很黑", "category": "public_facilities"}


async def file_in(client: AsyncClient, slug: str, headers: dict, body: dict) -> dict:
    response = await client.post(f"/api/v1/tenants/{slug}/concerns", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def similar(client: AsyncClient, headers: dict, body: dict, slug: str = "comm-a") -> list[dict]:
    response = await client.post(f"/api/v1/tenants/{slug}/concerns/similar", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()
