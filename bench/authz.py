"""In-process cost of an authorization decision at 100, 1,000 and 10,000 tenants, and the memory of 100,000 cached grants."""

from __future__ import annotations

import gc
import random
import timeit
import tracemalloc
import uuid

from uuid_utils.compat import uuid7

from bench.tree import Node, build_tree
from core.authz.authorizer import Authorizer, Grants

SIZES = (100, 1_000, 10_000)
USERS_PER_TENANT = 10
SAMPLES = 20_000  # decisions per timed run
REPEATS = 7  # timed runs per size; the best one counts, as timeit advises
# Whom a tenant's users typically are, by kind of tenant.
STAFF_ROLE = {"city": "district_admin", "district": "district_admin", "street": "street_staff"}
COMMUNITY_ROLES = ("resident", "resident", "resident", "resident_rep", "party_member", "grid_worker", "community_staff")


def _role(node: Node, rng: random.Random) -> str:
    return STAFF_ROLE.get(node.kind) or rng.choice(COMMUNITY_ROLES)


def fill_cache(authorizer: Authorizer, tree: list[Node], rng: random.Random) -> list[tuple[Grants, Node]]:
    """Cache USERS_PER_TENANT users per tenant, each built the way `Authorizer.grants()` builds them from rows."""
    users = []
    for node in tree:
        for _ in range(USERS_PER_TENANT):
            user_id = uuid.UUID(bytes=uuid7().bytes)
            # grants() gets fresh strings from each database row (a new hex, a new role), not shared ones.
            by_tenant: dict[str, set[str]] = {}
            by_tenant.setdefault(node.id.hex, set()).add(_role(node, rng).encode().decode())
            grants = Grants(user_id, 0, False, {k: frozenset(v) for k, v in by_tenant.items()})
            authorizer._cache[user_id] = grants
            authorizer._cache.move_to_end(user_id)
            users.append((grants, node))
    return users


def decision_us(size: int, seed: int = 1) -> float:
    """Best-of-REPEATS microseconds per `permits()` call, over random users, tenants and actions."""
    rng = random.Random(seed)
    tree = build_tree(size)
    authorizer = Authorizer(cache_size=size * USERS_PER_TENANT)
    users = fill_cache(authorizer, tree, rng)
    actions = sorted(authorizer.actions)
    samples = []
    for _ in range(SAMPLES):
        grants, home = rng.choice(users)
        # Half the questions are about the user's own tenant (mostly allowed), half about any tenant (mostly
        # denied, which walks the whole ancestry): both paths of the decision get measured.
        tenant = home if rng.random() < 0.5 else rng.choice(tree)
        samples.append((grants, tenant.path, rng.choice(actions)))
    permits = authorizer.permits

    def run() -> None:
        for grants, path, action in samples:
            permits(grants, path, action)

    run()  # warm-up
    return min(timeit.repeat(run, number=1, repeat=REPEATS)) / SAMPLES * 1e6


def memory_mb(size: int = 10_000, seed: int = 1) -> float:
    """MiB allocated by an Authorizer holding USERS_PER_TENANT users' grants per tenant (tracemalloc)."""
    rng = random.Random(seed)
    tree = build_tree(size)  # the tree itself lives in the database, so it is built before tracing starts
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        # cache_size is raised so all 100,000 grants stay cached (the app's default holds 50,000).
        authorizer = Authorizer(cache_size=size * USERS_PER_TENANT)
        users = fill_cache(authorizer, tree, rng)
        del users  # the list of (grants, node) pairs is the benchmark's, not the authorizer's
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(authorizer._cache) == size * USERS_PER_TENANT
    return (after - before) / 2**20


def run() -> dict[str, float]:
    figures = {f"casbin_decision_us_{size}": decision_us(size) for size in SIZES}
    figures[f"authz_memory_mb_{SIZES[-1]}"] = memory_mb(SIZES[-1])
    return figures


if __name__ == "__main__":
    for name, value in run().items():
        print(f"{name} = {value:.3f}")
