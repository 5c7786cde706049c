"""The shape of a realistic tenant tree (cities → districts → streets → communities), shared by the seed and the authz benchmark."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from uuid_utils.compat import uuid7

# Share of each upper level in the tree; communities take the rest. At 1,000 tenants: 2 cities, 8 districts,
# 40 streets and 950 communities — most tenants are communities, as in the real deployment.
UPPER_SHARES = (("city", 0.002), ("district", 0.008), ("street", 0.04))
KIND_CN = {"city": "市", "district": "区", "street": "街道", "community": "社区"}


@dataclass(frozen=True, slots=True)
class Node:
    id: uuid.UUID
    kind: str
    slug: str
    name: str
    parent: Node | None
    path: str


def build_tree(size: int) -> list[Node]:
    """`size` tenants, each level spread evenly over the one above; parents always come before children."""
    counts = [max(1, round(size * share)) for _, share in UPPER_SHARES]
    counts.append(size - sum(counts))
    kinds = [kind for kind, _ in UPPER_SHARES] + ["community"]
    nodes: list[Node] = []
    above: list[Node] = []
    for kind, count in zip(kinds, counts, strict=True):
        level = []
        for i in range(count):
            parent = above[i % len(above)] if above else None
            tenant_id = uuid7()  # the app's ids are UUIDv7 too, so index locality is the same
            path = f"{parent.path if parent else '/'}{tenant_id.hex}/"
            level.append(Node(tenant_id, kind, f"{kind}-{i + 1:04d}", f"测试{i + 1}号{KIND_CN[kind]}", parent, path))
        nodes.extend(level)
        above = level
    return nodes
