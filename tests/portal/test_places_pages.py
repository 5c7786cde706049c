"""Staff rename and archive compounds and buildings in the portal (/t/{slug}/staff/compounds): an archived one
leaves the join and filing forms and its QR code link, is listed apart and can be brought back; a taken name is
refused next to its field; another community's compound is not found."""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient

from tests.helpers import sign_in, submit, text_of

pytestmark = pytest.mark.usefixtures("world")
COMPOUNDS = "/t/comm-a/staff/compounds"


def _ids(html: str) -> tuple[str, dict[str, str]]:
    """甲小区's id and its buildings' ids by name, as the page shows them."""
    compound = re.search(r'id="compound-([0-9a-f-]{36})">\s*<h2>甲小区', html).group(1)  # type: ignore[union-attr]
    buildings = dict((name, bid) for bid, name in re.findall(
        r'id="name-([0-9a-f-]{36})" name="name" maxlength="50" value="([^"]+)"', html))
    return compound, buildings


async def test_staff_rename_a_compound_and_a_building(client: AsyncClient) -> None:
    await sign_in(client, "comm-a", "cstaff")
    compound, buildings = _ids((await client.get(COMPOUNDS)).text)
    renamed = await submit(client, COMPOUNDS, f"{COMPOUNDS}/{compound}/rename", {"name": "甲花园"})
    assert renamed.status_code == 200 and re.search(r"<h2>甲花园</h2>", renamed.text)
    moved = await submit(client, COMPOUNDS, f"{COMPOUNDS}/{compound}/buildings/{buildings['1号楼']}/rename",
                         {"name": "一号楼"})
    assert moved.status_code == 200 and "2号楼、一号楼" in text_of(moved)  # in the order of their names
    assert "1号楼" not in text_of(moved)


async def test_a_taken_name_is_refused_next_to_the_field_that_gave_it(client: AsyncClient) -> None:
    await sign_in(client, "comm-a", "cstaff")
    await submit(client, COMPOUNDS, COMPOUNDS, {"name": "乙园", "buildings": ""})
    compound, buildings = _ids((await client.get(COMPOUNDS)).text)
    taken = await submit(client, COMPOUNDS, f"{COMPOUNDS}/{compound}/rename", {"name": "乙园"})
    assert taken.status_code == 409
    assert f'id="name-{compound}-error"' in taken.text and "乙园 已存在" in text_of(taken)
    assert f'id="name-{compound}" name="name" maxlength="100" value="乙园"' in taken.text  # what they typed stays
    twin = await submit(client, COMPOUNDS, f"{COMPOUNDS}/{compound}/buildings/{buildings['2号楼']}/rename",
                        {"name": "1号楼"})
    assert twin.status_code == 409 and f'id="name-{buildings["2号楼"]}-error"' in twin.text
    empty = await submit(client, COMPOUNDS, f"{COMPOUNDS}/{compound}/rename", {"name": " "})
    assert empty.status_code == 422 and f'id="name-{compound}-error"' in empty.text
    unknown = await submit(client, COMPOUNDS, f"{COMPOUNDS}/{compound}/paint", {})
    assert unknown.status_code == 404


async def test_an_archived_compound_leaves_the_forms_and_comes_back(client: AsyncClient) -> None:
    await sign_in(client, "comm-a", "cstaff")
    compound, _buildings = _ids((await client.get(COMPOUNDS)).text)
    archived = await submit(client, COMPOUNDS, f"{COMPOUNDS}/{compound}/archive", {})
    assert archived.status_code == 200
    listed = re.search(rf'id="compound-{compound}">\s*<h3>甲小区 <span class="badge">已归档', archived.text)
    assert listed and "已归档的小区" in text_of(archived)
    assert f"qr.svg?compound={compound}" not in archived.text  # no QR code to print for it
    assert "甲小区" not in text_of(await client.get("/t/comm-a/join"))
    await sign_in(client, "comm-a", "resident")
    form = await client.get("/t/comm-a/concerns/new")
    assert form.status_code == 200 and compound not in form.text and "甲小区" not in text_of(form)
    await sign_in(client, "comm-a", "cstaff")
    restored = await submit(client, COMPOUNDS, f"{COMPOUNDS}/{compound}/restore", {})
    assert f"qr.svg?compound={compound}" in restored.text and "已归档的小区" not in text_of(restored)
    assert "甲小区" in text_of(await client.get("/t/comm-a/join"))


async def test_an_archived_building_leaves_the_filing_form(client: AsyncClient) -> None:
    await sign_in(client, "comm-a", "cstaff")
    compound, buildings = _ids((await client.get(COMPOUNDS)).text)
    archived = await submit(client, COMPOUNDS, f"{COMPOUNDS}/{compound}/buildings/{buildings['1号楼']}/archive", {})
    assert archived.status_code == 200
    row = re.search(rf'id="building-{buildings["1号楼"]}">(.*?)</tr>', archived.text, re.S)
    assert row and "已归档" in row.group(1) and "/restore" in row.group(1)
    await sign_in(client, "comm-a", "resident")
    form = await client.get("/t/comm-a/concerns/new")
    assert buildings["1号楼"] not in form.text and buildings["2号楼"] in form.text


async def test_residents_and_other_communities_cannot_touch_a_compound(client: AsyncClient) -> None:
    await sign_in(client, "comm-b", "bstaff")
    theirs = re.search(r'id="compound-([0-9a-f-]{36})"', (await client.get("/t/comm-b/staff/compounds")).text)
    assert theirs
    await sign_in(client, "comm-a", "cstaff")
    sneaked = await submit(client, COMPOUNDS, f"{COMPOUNDS}/{theirs.group(1)}/archive", {})
    assert sneaked.status_code == 404
    await sign_in(client, "comm-a", "resident")
    page = await client.get(COMPOUNDS)
    assert page.status_code == 200 and "/archive" not in page.text  # residents read the compounds, change none
    compound = re.search(r'id="compound-([0-9a-f-]{36})">\s*<h2>甲小区', page.text).group(1)  # type: ignore[union-attr]
    refused = await submit(client, "/t/comm-a/concerns/new", f"{COMPOUNDS}/{compound}/archive", {})
    assert refused.status_code == 403
    await sign_in(client, "comm-b", "bstaff")
    assert "已归档" not in text_of(await client.get("/t/comm-b/staff/compounds"))
