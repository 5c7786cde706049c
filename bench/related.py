"""Related concerns at scale: the similar-concern lookup (`RelatedService.similar`: the index's one candidate
query, the candidates read, re-ranked) timed in the largest community of a database of 10,000 indexed concerns and
of one of 1,000,000, and the duplicate-detection figures of the labelled sets (core.related.evaluation).

Each database is seeded in SQL (no rows travel from Python but the few hundred texts): many communities, the
largest with 15,000 concerns in the large one; every concern says one of TEXTS, the common matters more often
than the rare (so the index's keys are skewed as a live one's are), and is indexed under that text's keys
(`core.related.index.keys_of`). The index holds every concern's keys (24 million rows for 1,000,000 concerns,
loaded before its primary key is built, as a restore would, and unlogged: the lookups only read it); concern rows are written for the measured community
only, since a lookup reads no other (the concern table is read by primary key, within the tenant). `make bench`
(bench/run.py) records the figures; `python -m bench.related` seeds, measures and drops databases of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import gc
import itertools
import random
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from bench import seed
from bench.noise import ForeignCpu
from bench.tree import build_tree
from core.settings import Settings

P99_MS_TARGET = 30.0
LARGE_OVER_SMALL_TARGET = 2.0
PRECISION_TARGET, RECALL_TARGET = 0.85, 0.75  # of the top 3 suggestions, on the development set (issue 16)
LOOKUPS = 300
ROUNDS = 3
WARMUP = 30  # lookups first made and not counted: the pool filled, statements compiled, pages cached


@dataclass(frozen=True)
class Size:
    name: str  # how the figures name it: 1m, 10k
    concerns: int
    tenants: int  # the tree (bench/tree.py): most of them communities
    largest: int  # the concerns of the largest community, where the lookups are made


LARGE = Size("1m", 1_000_000, 110, 15_000)
SMALL = Size("10k", 10_000, 12, 2_000)

# (category, titles, descriptions): each title with each description is one way a resident writes the matter.
MATTERS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("ev_charging", ("电动车充电难", "电瓶车没地方充电", "小区充电桩太少"),
     ("晚上下班回来充电桩全被占满，只能把电瓶拿回家充", "希望在车棚增设充电桩，现在排队充电要等很久",
      "充电桩经常坏，电动车充不上电")),
    ("environment", ("楼顶堆放垃圾", "楼顶垃圾漏水", "天台上全是垃圾"),
     ("顶楼平台堆满装修垃圾，下雨后渗水到楼下住户家", "楼顶的垃圾很久没人清理，雨天往下漏水",
      "天台堆了很多杂物和垃圾，有安全隐患")),
    ("public_facilities", ("楼道灯坏了", "楼道声控灯不亮", "走廊灯不亮"),
     ("晚上楼道一片漆黑，老人上下楼很危险", "声控灯坏了一个多月没人修", "楼梯间的灯泡烧了，请物业更换")),
    ("public_facilities", ("电梯经常故障", "电梯又坏了", "电梯停运"),
     ("电梯三天两头停运，老人只能爬楼梯", "电梯运行时有异响，还困过人", "电梯坏了一周没有修好")),
    ("drainage", ("下水道堵塞", "厨房下水管堵了", "污水管道返水"),
     ("一楼地漏往外冒污水，气味很大", "下水道堵了好几天，污水流到路面上", "雨后下水管道返水，楼下被淹")),
    ("parking_roads", ("小区停车难", "车位不够", "乱停车堵路"),
     ("晚上车辆停满消防通道，救护车进不来", "外来车辆占用小区车位", "小区车位太少，每天找不到地方停车")),
    ("noise", ("广场舞噪音扰民", "跳舞音响太吵", "晚上广场舞声音太大"),
     ("每天晚上九点以后还在放音乐，影响孩子学习", "广场舞音响开得很大，老人休息不好", "楼下空地跳舞的音乐太吵了")),
    ("environment", ("遛狗不拴绳", "小区流浪狗多", "狗粪没人清理"),
     ("有人遛狗不牵绳，小孩被吓到", "流浪狗在小区里追人，很危险", "草坪上到处是狗粪，没人管")),
    ("heating", ("暖气不热", "供暖温度低", "暖气片冰凉"),
     ("家里暖气只有十几度，老人孩子都冻感冒了", "供暖以后室温一直上不去", "暖气片一直不热，找物业也没解决")),
    ("public_facilities", ("水压低", "自来水水压不足", "高层没水"),
     ("楼上住户早晚用水高峰时没水", "水压太低热水器打不着火", "六楼以上经常停水")),
    ("environment", ("绿地被占用种菜", "草坪被毁", "绿化带种菜"),
     ("有居民在绿化带里开荒种菜，还浇粪水", "小区草坪被踩坏了没人补种", "公共绿地被私自圈占")),
    ("environment", ("垃圾桶满了没人清", "垃圾清运不及时", "垃圾站臭味大"),
     ("垃圾桶溢出来，苍蝇很多", "垃圾好几天才清运一次，夏天臭得不行", "垃圾站离楼太近，气味很难闻")),
    ("safety", ("楼道堆放杂物", "楼道里堆满纸箱", "消防通道被堵"),
     ("楼道里堆放旧家具和纸箱，堵塞消防通道", "邻居把杂物堆在楼梯间，存在火灾隐患", "消防通道堆满了东西，走不过去")),
    ("public_facilities", ("增设直饮水机", "直饮水机太少", "取水点太远"),
     ("小区只有一台直饮水机，北边居民取水要走很远", "直饮水机排队很长，希望再装一台", "西北角没有取水点，老人取水不方便")),
    ("parking_roads", ("路面坑洼", "小区道路破损", "路上有大坑"),
     ("小区主路坑坑洼洼，下雨积水", "路面破损严重，老人走路容易摔倒", "门口的路有个大坑，电动车经过很危险")),
    ("safety", ("单元门禁坏了", "门禁卡刷不开", "单元门关不上"),
     ("单元门禁坏了，陌生人随便进出", "门禁刷卡没反应，只能等别人开门", "单元门锁坏了一直关不上")),
    ("property_service", ("屋顶漏水", "顶楼渗水", "墙面渗水发霉"),
     ("顶楼一下雨就漏水，天花板发霉", "卫生间楼上渗水下来，墙皮脱落", "外墙渗水，屋里墙面都发霉了")),
    ("parking_roads", ("车棚太乱", "自行车棚废弃车多", "车棚没有灯"),
     ("车棚里堆满了僵尸车，没地方停车", "废弃自行车占了车棚一半", "车棚晚上没有灯，取车很不方便")),
    ("property_service", ("物业费涨价", "物业服务差", "物业不作为"),
     ("物业费涨了但是服务没改善", "物业保洁不到位，楼道很脏", "反映的问题物业一直拖着不处理")),
    ("environment", ("树枝遮挡窗户", "大树需要修剪", "树木挡光"),
     ("楼前的树长得太高，挡住了低楼层采光", "树枝伸到窗户边，刮风时敲玻璃", "树太密了，夏天虫子很多")),
    ("public_facilities", ("健身器材坏了", "小区缺少健身设施", "儿童游乐设施损坏"),
     ("健身器材生锈损坏，老人锻炼不安全", "小区没有健身场地，希望增设器材", "滑梯断了一块，小孩玩很危险")),
    ("environment", ("烧烤油烟扰民", "楼下饭店油烟大", "油烟直排"),
     ("楼下饭店油烟直接排到楼上，窗户都不敢开", "夜市烧烤油烟呛人", "餐馆排烟管道对着居民楼")),
    ("noise", ("夜间施工噪音", "装修噪音扰民", "工地晚上施工"),
     ("旁边工地半夜还在施工，吵得睡不着", "邻居装修周末早上七点就开始砸墙", "夜里两点还有电钻声")),
    ("safety", ("电动车进楼充电", "楼道里飞线充电", "电瓶车停在楼道"),
     ("有人从窗户拉电线给电动车充电，很危险", "电动车推进楼道充电，火灾隐患大", "楼道里停着电瓶车，还在充电")),
)


# What residents add: where, how long, how bad (each a different set of bigrams around the same matter).
DETAILS = ("", "，东门附近最严重", "，已经持续一个多月了")


def texts() -> list[tuple[str, str, str]]:
    """Every (title, description, category) of MATTERS: each title with each description and each detail, 648."""
    return [(title, description + detail, category) for category, titles, descriptions in MATTERS
            for title, description, detail in itertools.product(titles, descriptions, DETAILS)]


def skewed(u: float) -> int:
    """A text's number from a uniform draw: the first matters (EV charging, rubbish on the roof …) the most common,
    as a few matters are most of what a community raises. The SQL below draws the same way."""
    return min(int(len(TEXTS) * u * u), len(TEXTS) - 1)


TEXTS = texts()
# Each community's concerns, numbered 1…size: a text drawn by a hash of the community and the number (squared, as
# in `skewed`), a status (four in five still open), and a moment in the past year.
_CONCERNS_SQL = """
WITH drawn AS (
    SELECT c.tenant_id, c.tenant_path, c.idx, g.n,
           (abs(hashtext(c.idx || '/' || g.n)) % 1000000) / 1000000.0 AS u,
           abs(hashtext(g.n || '/' || c.idx)) AS h,
           md5(c.idx || '-' || g.n) AS noise
    FROM seed_community c, generate_series(1, c.size) AS g(n)
)
INSERT INTO seed_concern (tenant_id, tenant_path, id, text_no, status, filed_at, n)
SELECT tenant_id, tenant_path,
       (lpad(to_hex((extract(epoch FROM at) * 1000)::bigint), 12, '0') || '7' || substr(noise, 1, 3) || '8'
        || substr(noise, 4, 15))::uuid,
       least(floor($1 * u * u)::int, $1 - 1),
       CASE WHEN h % 10 < 4 THEN 'accepted' WHEN h % 10 < 6 THEN 'submitted' WHEN h % 10 < 8 THEN 'in_topic'
            WHEN h % 10 < 9 THEN 'resolved' ELSE 'rejected' END,
       at, n
FROM (SELECT *, $2::timestamptz - (h % (365 * 86400)) * interval '1 second' AS at FROM drawn) timed
"""
_CONCERN_ROWS_SQL = """
INSERT INTO concern (tenant_id, tenant_path, id, reference, title, description, category, channel, status, created_at,
                     updated_at)
SELECT c.tenant_id, c.tenant_path, c.id, 'R-' || lpad(c.n::text, 7, '0'), t.title, t.description, t.category, 'portal', c.status,
       c.filed_at, c.filed_at
FROM seed_concern c JOIN seed_text t ON t.no = c.text_no WHERE c.tenant_id = $1
"""
_BAND_ROWS_SQL = """
INSERT INTO concern_band (tenant_id, tenant_path, key, filed_at, concern_id)
SELECT c.tenant_id, c.tenant_path, k.key, c.filed_at, c.id FROM seed_concern c JOIN seed_key k ON k.no = c.text_no
"""
_BAND_KEY = "pk_concern_band"


def sizes(size: Size, communities: int) -> list[int]:
    """Concerns per community: the largest first, the others spread from half to one and a half of their mean."""
    rest = size.concerns - size.largest
    others = communities - 1
    mean = rest / others
    spread = [mean * (0.5 + i / max(1, others - 1)) for i in range(others)]
    counts = [round(x) for x in spread]
    counts[-1] += rest - sum(counts)
    assert max(counts) < size.largest, "the largest community must be the largest"
    return [size.largest, *counts]


async def _seed(settings: Settings, size: Size, now: datetime.datetime) -> tuple[str, str]:
    """The tree, a staff member of the largest community, the concerns and their index; (its slug, the user)."""
    from core.related.index import keys_of

    tree = build_tree(size.tenants)
    communities = [node for node in tree if node.kind == "community"]
    largest = communities[0]
    staff_id = uuid.uuid4()
    conn = await asyncpg.connect(seed._dsn(settings.owner_database_url), timeout=10)
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")  # valid by construction
            await conn.execute("SET LOCAL synchronous_commit = off")
            await conn.execute("SET LOCAL work_mem = '256MB'")
            await conn.copy_records_to_table("tenant", records=[
                (n.id, n.slug, n.name, n.kind, n.parent.id if n.parent else None, n.path, "[]", "{}", False, now, now)
                for n in tree], columns=["id", "slug", "name", "kind", "parent_id", "path", "plugins", "portal",
                                         "archived", "created_at", "updated_at"])
            await conn.execute(
                "INSERT INTO user_account (id, username, display_name, password_hash, platform_admin, active,"
                " authz_version, created_at, updated_at) VALUES ($1, 'related-staff', '社区工作人员', '!', false, true,"
                " 0, $2, $2)", staff_id, now)
            await conn.execute(
                "INSERT INTO role_assignment (tenant_id, tenant_path, id, user_id, role, created_at, updated_at)"
                " VALUES ($1, $2, $3, $4, 'community_staff', $5, $5)", largest.id, largest.path, uuid.uuid4(), staff_id, now)
            await conn.execute("CREATE TEMP TABLE seed_text (no int PRIMARY KEY, title text, description text,"
                               " category text) ON COMMIT DROP")
            await conn.copy_records_to_table("seed_text", records=[(i, t, d, c) for i, (t, d, c) in enumerate(TEXTS)])
            await conn.execute("CREATE TEMP TABLE seed_key (no int, key bigint) ON COMMIT DROP")
            await conn.copy_records_to_table("seed_key", records=[
                (i, key) for i, (t, d, _) in enumerate(TEXTS) for key in keys_of(t, d)])
            await conn.execute("CREATE TEMP TABLE seed_community (idx int, tenant_id uuid, tenant_path text, size int)"
                               " ON COMMIT DROP")
            await conn.copy_records_to_table("seed_community", records=[
                (i, node.id, node.path, count) for i, (node, count) in enumerate(zip(communities, sizes(size, len(communities)),
                                                                             strict=True))])
            await conn.execute("CREATE TEMP TABLE seed_concern (tenant_id uuid, tenant_path text, id uuid, text_no int,"
                               " status text,"
                               " filed_at timestamptz, n int) ON COMMIT DROP")
            await conn.execute(_CONCERNS_SQL, len(TEXTS), now)
            await conn.execute(_CONCERN_ROWS_SQL, largest.id)
            await conn.execute(f"ALTER TABLE concern_band DROP CONSTRAINT {_BAND_KEY}")
            await conn.execute("ALTER TABLE concern_band SET UNLOGGED")
            await conn.execute(_BAND_ROWS_SQL)
            await conn.execute("SET LOCAL maintenance_work_mem = '3GB'")
            await conn.execute(f"ALTER TABLE concern_band ADD CONSTRAINT {_BAND_KEY}"
                               " PRIMARY KEY (tenant_id, key, filed_at, concern_id)")
        # As a live database is: statistics taken, the visibility map set (the candidate query reads the index only).
        await conn.execute("VACUUM (ANALYZE) concern, concern_band, tenant, user_account, role_assignment")
    finally:
        await conn.close()
    return largest.slug, "related-staff"


def lookups(count: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """What residents type while filing: a matter of TEXTS (the common ones more often) written anew — another
    title with another description — and one in ten a matter nobody has raised."""
    novel = ("小区门口超市占道经营", "社区图书室开放时间太短", "快递柜不够用", "楼下理发店噪音", "公交站牌被撞坏")
    chosen = []
    for _ in range(count):
        if rng.random() < 0.1:
            title = rng.choice(novel)
            chosen.append((title, f"{title}，希望社区协调", "other"))
            continue
        title, _, category = TEXTS[skewed(rng.random())]
        matter = next(m for m in MATTERS if title in m[1])
        chosen.append((rng.choice(matter[1]), rng.choice(matter[2]) + rng.choice(DETAILS), category))
    return chosen


async def _lookups_round(app: Any, slug: str, username: str, chosen: list[tuple[str, str, str]]) -> list[tuple[float, bool]]:
    """Each lookup in its own unit of work, as a request's: (the time of `similar` alone, whether it found any)."""
    from core.related.services import RelatedService
    from core.tenancy.scope import tenant_session

    made = []
    for title, description, category in chosen:
        async with tenant_session(app, slug, username) as scope:
            started = time.perf_counter()
            similar = await RelatedService(scope.session, scope).similar(title, description, category=category)
            made.append(((time.perf_counter() - started) * 1000, bool(similar)))
    return made


async def _time_lookups(seeded: dict[str, tuple[Settings, str, str]]) -> dict[str, list[tuple[float, bool]]]:
    """The same lookups on every database, in ROUNDS interleaved rounds (so that a noisy moment of the machine
    falls on each alike), after WARMUP lookups on each that are not counted."""
    from core.app import create_app

    apps = {name: create_app(settings) for name, (settings, _, _) in seeded.items()}
    chosen = lookups(WARMUP + LOOKUPS, random.Random(20261202))
    warm, counted = chosen[:WARMUP], chosen[WARMUP:]
    made: dict[str, list[tuple[float, bool]]] = {name: [] for name in seeded}
    try:
        for name, (_, slug, username) in seeded.items():
            await _lookups_round(apps[name], slug, username, warm)
        # This process holds two apps and the seed's texts: a full collection of all that takes 150–300 ms here
        # and would land in whichever lookup triggered it (a server holds one app; its own collections are in
        # the HTTP figures). What is alive after the warm-up is left out of collections from then on.
        gc.collect()
        gc.freeze()
        per_round = -(-len(counted) // ROUNDS)
        for round_ in range(ROUNDS):
            for name, (_, slug, username) in seeded.items():
                made[name] += await _lookups_round(apps[name], slug, username,
                                                   counted[round_ * per_round:(round_ + 1) * per_round])
    finally:
        gc.unfreeze()
        for app in apps.values():
            await app.state.engine.dispose()
    return made


def _settings(name: str) -> Settings:
    from bench.run import APP_URL, OWNER_URL

    def own(url: str) -> str:
        return make_url(url).set(database=name).render_as_string(hide_password=False)

    return Settings(database_url=own(APP_URL), migrations_database_url=own(OWNER_URL))


def measure() -> dict[str, float]:
    """The lookup's p50 and p99 on each database (seeded, measured, dropped), their ratio, and the evaluation's
    figures; printed as they come."""
    figures: dict[str, float] = {}
    now = datetime.datetime.now(datetime.UTC)
    databases = {size.name: _settings(f"yishi_bench_related_{size.name}") for size in (SMALL, LARGE)}
    try:
        seeded = {}
        for size in (SMALL, LARGE):
            started = time.monotonic()
            seed.create_database(databases[size.name])
            slug, username = asyncio.run(_seed(databases[size.name], size, now))
            seeded[size.name] = (databases[size.name], slug, username)
            print(f"  {size.concerns:,} concerns indexed ({size.largest:,} in the largest community) in "
                  f"{time.monotonic() - started:.0f} s", flush=True)
        names = {make_url(s.database_url).database for s in databases.values()}
        with ForeignCpu(names, seed.database_names(databases[SMALL.name])) as foreign:
            made = asyncio.run(_time_lookups(seeded))
    finally:
        for settings in databases.values():
            seed.drop_database(settings)
    for size in (SMALL, LARGE):
        timings = [ms for ms, _ in made[size.name]]
        found = sum(hit for _, hit in made[size.name])
        p50, p99 = statistics.median(timings), statistics.quantiles(timings, n=100)[98]
        figures[f"similar_p50_ms_{size.name}"], figures[f"similar_p99_ms_{size.name}"] = p50, p99
        print(f"  {size.concerns:>9,} concerns: {len(timings)} lookups in the largest community, p50 {p50:.1f} ms, "
              f"p99 {p99:.1f} ms; {found} found a similar concern", flush=True)
        if found < len(timings) // 2:
            raise RuntimeError(f"only {found} of {len(timings)} lookups found anything: the seed measures nothing")
    figures["similar_p99_1m_over_10k"] = figures["similar_p99_ms_1m"] / figures["similar_p99_ms_10k"]
    figures["related_other_processes_cpu_share"] = foreign.share
    print(f"  other processes took {foreign.share:.0%} of the cores while the lookups ran"
          + (f" (most: {foreign.busiest})" if foreign.share >= 0.05 else ""), flush=True)
    figures.update(evaluated())
    return figures


def evaluated() -> dict[str, float]:
    """Precision and recall of the top 3 and cluster purity on each labelled set there is (the holdout's named
    `…_holdout`)."""
    from core.related import evaluation

    figures: dict[str, float] = {}
    for name, path in evaluation.SETS.items():
        if not path.exists():
            print(f"  (no {name} set at {path}: its figures are not measured)")
            continue
        result = evaluation.evaluate(evaluation.load(path))
        suffix = "" if name == "development" else f"_{name}"
        figures[f"duplicate_precision_at3{suffix}"] = result.precision_at3
        figures[f"duplicate_recall_at3{suffix}"] = result.recall_at3
        figures[f"cluster_purity{suffix}"] = result.cluster_purity
        print(f"  {name} set: {result.concerns} concerns; precision@3 {result.precision_at3:.3f}, recall@3 "
              f"{result.recall_at3:.3f}, cluster purity {result.cluster_purity:.3f}", flush=True)
    return figures


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(prog="python -m bench.related", description=(
        "The similar-concern lookup on 10,000 and 1,000,000 indexed concerns (databases of its own), and the "
        "evaluation sets' figures.")).parse_args(argv)
    started = time.monotonic()
    figures = measure()
    print(f"  lookup p99, 1,000,000: {figures['similar_p99_ms_1m']:.1f} ms (target < {P99_MS_TARGET:.0f} ms); "
          f"÷ 10,000: {figures['similar_p99_1m_over_10k']:.2f} × (target ≤ {LARGE_OVER_SMALL_TARGET:.0f} ×); "
          f"{time.monotonic() - started:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
