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
# The timed decisions hold the user population fixed (the seeded database's 10,000), so that only the
# number of tenants varies; a last case adds 10 users per tenant at 10,000 tenants, as the memory figure does.
USERS = 10_000
USERS_PER_TENANT = 10
SAMPLES = 20_000  # decisions per timed run
ROUNDS = 15  # timed runs per case, interleaved across cases so that a noisy moment hits them all; the best counts
# Whom a tenant's users typically are, by kind of tenant.
STAFF_ROLE = {"city": "district_admin", "district": "district_admin", "street": "street_staff"}
COMMUNITY_ROLES = ("resident", "resident", "resident", "resident_rep", "party_member", "grid_worker", "community_staff")


def populate(authorizer: Authorizer, tree: list[Node], users: int, rng: random.Random) -> list[tuple[Grants, Node]]:
    """Cache `users` users' grants, one role each, spread over the tree the way `core.tenancy.scope.grants_of` builds them."""
    cached = []
    for i in range(users):
        node = tree[i % len(tree)]
        user_id = uuid.UUID(bytes=uuid7().bytes)
        role = STAFF_ROLE.get(node.kind) or rng.choice(COMMUNITY_ROLES)
        # grants() gets fresh strings from each database row (a new hex, a new role), not shared ones.
        by_tenant: dict[str, set[str]] = {}
        by_tenant.setdefault(node.id.hex, set()).add(role.encode().decode())
        grants = Grants(user_id, 0, False, {k: frozenset(v) for k, v in by_tenant.items()})
        authorizer._cache[user_id] = grants
        authorizer._cache.move_to_end(user_id)
        cached.append((grants, node))
    return cached


def _decisions(size: int, users: int, seed: int = 1):  # type: ignore[no-untyped-def]
    """A timed loop of SAMPLES `permits()` calls on random users, tenants and actions."""
    rng = random.Random(seed)
    tree = build_tree(size)
    authorizer = Authorizer(cache_size=users)
    cached = populate(authorizer, tree, users, rng)
    actions = sorted(authorizer.actions)
    samples = []
    for _ in range(SAMPLES):
        grants, home = rng.choice(cached)
        # Half the questions are about the user's own tenant (mostly allowed), half about any tenant (mostly
        # denied, which walks the whole ancestry): both ways through the decision get measured.
        tenant = home if rng.random() < 0.5 else rng.choice(tree)
        samples.append((grants, tenant.path, rng.choice(actions)))
    permits = authorizer.permits

    def run() -> None:
        for grants, path, action in samples:
            permits(grants, path, action)

    return run


def decision_us() -> dict[str, float]:
    """Best microseconds per decision for each case."""
    cases = {f"casbin_decision_us_{size}": _decisions(size, USERS) for size in SIZES}
    cases[f"casbin_decision_us_{SIZES[-1]}_{SIZES[-1] * USERS_PER_TENANT}_users"] = _decisions(
        SIZES[-1], SIZES[-1] * USERS_PER_TENANT
    )
    best = dict.fromkeys(cases, float("inf"))
    for run in cases.values():
        run()  # warm-up
    for _ in range(ROUNDS):
        for name, run in cases.items():
            best[name] = min(best[name], timeit.timeit(run, number=1))
    return {name: seconds / SAMPLES * 1e6 for name, seconds in best.items()}


def memory_mb(size: int = SIZES[-1], seed: int = 1) -> float:
    """MiB allocated by an Authorizer holding USERS_PER_TENANT users' grants per tenant (tracemalloc)."""
    rng = random.Random(seed)
    tree = build_tree(size)  # the tree itself lives in the database, so it is built before tracing starts
    users = size * USERS_PER_TENANT
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        # cache_size is raised so that all the grants stay cached (the app's default keeps 50,000).
        authorizer = Authorizer(cache_size=users)
        cached = populate(authorizer, tree, users, rng)
        del cached  # the benchmark's own list of (grants, node) pairs is not the authorizer's memory
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(authorizer._cache) == users
    return (after - before) / 2**20


def run() -> dict[str, float]:
    figures = decision_us()
    figures[f"authz_memory_mb_{SIZES[-1]}"] = memory_mb()
    return figures


if __name__ == "__main__":
    for name, value in run().items():
        print(f"{name} = {value:.3f}")
