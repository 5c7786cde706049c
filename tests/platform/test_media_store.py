"""Photos in an S3-compatible bucket (a real moto server on a free port): stored, served through the app's
authorised routes, never a row without its object nor an object left for a row rolled back, and
`yishi media migrate` moving a local folder's photos into the bucket, and `yishi export` reading them there."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import boto3
import pytest
import pytest_asyncio
from click.testing import Result
from httpx import AsyncClient
from litestar import Litestar
from moto.server import ThreadedMotoServer
from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.app import create_app
from core.concerns.models import Photo
from core.db import TenantScopeError, table_of
from core.http import provide_db_session
from core.media import PhotoStore, clean_image, photo_store_from
from core.settings import Settings
from core.transfer.services import decode
from tests.conftest import Auth, DatabaseUnderTest, http_client
from tests.helpers import BASE, file, png, upload

REGION = "us-east-1"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A real S3 server (moto's), with the credentials the app reads from the standard AWS variables."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    patch = pytest.MonkeyPatch()
    patch.setenv("AWS_ACCESS_KEY_ID", "yishi-test")
    patch.setenv("AWS_SECRET_ACCESS_KEY", "yishi-test-secret")
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        patch.undo()
        server.stop()


@pytest.fixture
def s3(s3_endpoint: str):  # noqa: ANN201 (boto3's client type is generated)
    return boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION, aws_access_key_id="yishi-test",
                        aws_secret_access_key="yishi-test-secret")


@pytest.fixture
def bucket(s3) -> str:  # noqa: ANN001
    name = f"photos-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def media_url(endpoint: str, bucket: str) -> str:
    return f"s3://{bucket}/yishi?endpoint={endpoint}&region={REGION}"


def objects(s3, bucket: str) -> dict[str, bytes]:  # noqa: ANN001
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}


@pytest_asyncio.fixture
async def s3_app(database: DatabaseUnderTest, s3_endpoint: str, bucket: str) -> AsyncIterator[Litestar]:
    app = create_app(dataclasses.replace(database.settings, media_url=media_url(s3_endpoint, bucket)))
    yield app
    await app.state.engine.dispose()


@pytest_asyncio.fixture
async def s3_client(s3_app: Litestar) -> AsyncIterator[AsyncClient]:
    async with http_client(s3_app) as client:
        yield client


async def photo_rows(owner_engine: AsyncEngine) -> list[Row]:
    """Every Photo row of every tenant, read as the owner (whom Row-Level Security does not filter)."""
    async with owner_engine.connect() as conn:
        return list((await conn.execute(select(table_of(Photo)))).all())


def local_files(settings: Settings) -> set[str]:
    root = Path(settings.media_dir)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


# --- the store on its own ----------------------------------------------------------------------------------------


async def test_the_s3_store_keeps_photos_under_its_prefix(s3_endpoint: str, bucket: str, s3) -> None:  # noqa: ANN001
    store = PhotoStore.s3(media_url(s3_endpoint, bucket))
    await store.put("t1/a.png", b"first")
    assert await store.load("t1/a.png") == b"first"
    assert await store.exists("t1/a.png") and not await store.exists("t1/b.png")
    assert objects(s3, bucket) == {"yishi/t1/a.png": b"first"}
    await store.delete("t1/a.png")
    await store.delete("t1/a.png")  # deleting what is gone is no error
    assert objects(s3, bucket) == {}


def test_the_media_url_chooses_the_store(tmp_path: Path) -> None:
    assert photo_store_from(Settings(media_dir=str(tmp_path))).where == str(tmp_path.resolve())
    assert photo_store_from(Settings(media_url=f"file://{tmp_path}/x")).where == str(tmp_path / "x")
    assert photo_store_from(Settings(media_url="s3://b/p?region=cn-hangzhou")).where == "s3://b/p"
    with pytest.raises(ValueError, match="unknown option 'acl'"):
        photo_store_from(Settings(media_url="s3://b/p?acl=public-read"))
    with pytest.raises(ValueError, match="s3://bucket/prefix or file:///path"):
        photo_store_from(Settings(media_url="ftp://host/photos"))


# --- through the app ---------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("world")
async def test_a_concern_photo_is_stored_in_the_bucket_and_served_by_the_app(
        s3_client: AsyncClient, database: DatabaseUnderTest, owner_engine: AsyncEngine, s3, bucket: str) -> None:  # noqa: ANN001
    auth = Auth(s3_client)
    resident = await auth("resident")
    concern = await file(s3_client, resident)
    before = local_files(database.settings)
    response = await upload(s3_client, f"{BASE}/concerns/{concern['id']}/photos", resident, png(), "a.png", "image/png")
    assert response.status_code == 201, response.text
    stored = objects(s3, bucket)
    assert len(stored) == 1 and local_files(database.settings) == before
    [(key, content)] = stored.items()
    served = await s3_client.get(f"{BASE}/concerns/{concern['id']}/photos/{response.json()['id']}", headers=resident)
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert served.content == content
    [row] = await photo_rows(owner_engine)
    assert key == f"yishi/{row.storage_key}" and row.storage_key.startswith(row.tenant_id.hex)
    # The bucket is only reached through the app: someone who may not read the concern gets nothing.
    refused = await s3_client.get(f"{BASE}/concerns/{concern['id']}/photos/{response.json()['id']}",
                                  headers=await auth("neighbour"))
    assert refused.status_code in (403, 404)


@pytest.mark.usefixtures("world")
@pytest.mark.parametrize("failure", ["no bucket", "no server"])
async def test_an_upload_the_store_refuses_leaves_no_row(database: DatabaseUnderTest, owner_engine: AsyncEngine,
                                                        s3_endpoint: str, failure: str) -> None:
    if failure == "no bucket":
        url = media_url(s3_endpoint, "never-created")
    else:
        with socket.socket() as probe:  # a port nothing listens on
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        url = media_url(f"http://127.0.0.1:{port}", "photos")
    app = create_app(dataclasses.replace(database.settings, media_url=url))
    try:
        async with http_client(app) as client:
            resident = await Auth(client)("resident")
            concern = await file(client, resident)
            response = await upload(client, f"{BASE}/concerns/{concern['id']}/photos", resident, png(), "a.png",
                                    "image/png")
            assert response.status_code == 503, response.text
            assert response.json()["detail"] == "照片存储暂时不可用，照片未保存，请稍后再试"
            assert (await client.get(f"{BASE}/concerns/{concern['id']}", headers=resident)).json()["photos"] == []
        assert await photo_rows(owner_engine) == []
    finally:
        await app.state.engine.dispose()


async def test_the_object_of_a_row_rolled_back_is_deleted_and_a_committed_one_kept(
        s3_app: Litestar, s3, bucket: str, clean: None) -> None:  # noqa: ANN001
    """The request's own session plumbing: a photo stored before the transaction fails does not stay behind."""
    image = clean_image(png())
    store: PhotoStore = s3_app.state.photo_store
    tenant = uuid.uuid4()

    requests = provide_db_session(s3_app.state)
    session = await anext(requests)
    await session.execute(select(1))  # a request has always read something by the time it stores a photo
    kept = await store.save(session, tenant, image)
    with pytest.raises(StopAsyncIteration):
        await anext(requests)  # the request ended well: committed

    requests = provide_db_session(s3_app.state)
    session = await anext(requests)
    await session.execute(select(1))
    dropped = await store.save(session, tenant, image)
    with pytest.raises(RuntimeError, match="the handler failed"):
        await requests.athrow(RuntimeError("the handler failed"))

    # The commit itself fails (here its flush: a row written outside any tenant).
    requests = provide_db_session(s3_app.state)
    session = await anext(requests)
    await session.execute(select(1))
    unwritten = await store.save(session, tenant, image)
    session.add(Photo(owner_kind="concern", owner_id=uuid.uuid4(), storage_key=unwritten, content_type="image/png",
                      size=len(image.data), width=image.width, height=image.height))
    with pytest.raises(TenantScopeError):
        await anext(requests)

    assert set(objects(s3, bucket)) == {f"yishi/{kept}"} and len({kept, dropped, unwritten}) == 3


# --- yishi media migrate -----------------------------------------------------------------------------------------


@pytest.mark.usefixtures("world")
async def test_media_migrate_copies_local_photos_into_the_bucket(
        client: AsyncClient, auth: Auth, app: Litestar, database: DatabaseUnderTest, s3_endpoint: str, bucket: str,
        s3, yishi: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    resident = await auth("resident")
    concern = await file(client, resident)
    ids = []
    for colour in (png(), png()):
        response = await upload(client, f"{BASE}/concerns/{concern['id']}/photos", resident, colour, "a.png", "image/png")
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    monkeypatch.setenv("YISHI_MEDIA_DIR", database.settings.media_dir)
    monkeypatch.setenv("YISHI_MEDIA_URL", media_url(s3_endpoint, bucket))

    first = await asyncio.to_thread(yishi, "media", "migrate")  # the command runs its own event loop
    assert first.exit_code == 0, first.output
    assert "复制 2 张，目标已有 0 张，源文件缺失 0 张" in first.output
    local = Path(database.settings.media_dir)
    stored = objects(s3, bucket)
    assert len(stored) == 2 and all(content == (local / key.removeprefix("yishi/")).read_bytes()
                                    for key, content in stored.items())
    again = await asyncio.to_thread(yishi, "media", "migrate")
    assert again.exit_code == 0 and "复制 0 张，目标已有 2 张" in again.output

    # The rows resolve unchanged on the app configured for the bucket, even with the local files gone.
    for key in stored:
        (local / key.removeprefix("yishi/")).unlink()
    migrated = create_app(dataclasses.replace(database.settings, media_url=media_url(s3_endpoint, bucket)))
    try:
        async with http_client(migrated) as s3_client:
            headers = await Auth(s3_client)("resident")
            for photo_id in ids:
                served = await s3_client.get(f"{BASE}/concerns/{concern['id']}/photos/{photo_id}", headers=headers)
                assert served.status_code == 200 and served.content in stored.values()
    finally:
        await migrated.state.engine.dispose()


@pytest.mark.usefixtures("world")
async def test_media_migrate_names_photos_whose_file_is_missing(
        client: AsyncClient, auth: Auth, database: DatabaseUnderTest, owner_engine: AsyncEngine, s3_endpoint: str,
        bucket: str, s3, yishi: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    resident = await auth("resident")
    concern = await file(client, resident)
    response = await upload(client, f"{BASE}/concerns/{concern['id']}/photos", resident, png(), "a.png", "image/png")
    assert response.status_code == 201, response.text
    [row] = await photo_rows(owner_engine)
    (Path(database.settings.media_dir) / row.storage_key).unlink()
    monkeypatch.setenv("YISHI_MEDIA_DIR", database.settings.media_dir)
    monkeypatch.setenv("YISHI_MEDIA_URL", media_url(s3_endpoint, bucket))
    result = await asyncio.to_thread(yishi, "media", "migrate")
    assert result.exit_code == 1
    assert "源文件缺失 1 张" in result.output and row.storage_key in result.output
    assert objects(s3, bucket) == {}


@pytest.mark.usefixtures("clean")
async def test_media_migrate_refuses_to_copy_a_folder_onto_itself(database: DatabaseUnderTest, yishi: Callable[..., Result],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YISHI_MEDIA_DIR", database.settings.media_dir)
    monkeypatch.delenv("YISHI_MEDIA_URL", raising=False)
    result = await asyncio.to_thread(yishi, "media", "migrate")
    assert result.exit_code == 2 and "源与目标是同一个照片存储" in result.output


@pytest.mark.usefixtures("world")
async def test_an_export_reads_its_photos_from_the_bucket(
        s3_client: AsyncClient, s3_endpoint: str, bucket: str, s3, database: DatabaseUnderTest, tmp_path: Path,  # noqa: ANN001
        yishi: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    resident = await Auth(s3_client)("resident")
    concern = await file(s3_client, resident)
    response = await upload(s3_client, f"{BASE}/concerns/{concern['id']}/photos", resident, png(), "a.png", "image/png")
    assert response.status_code == 201, response.text
    monkeypatch.setenv("YISHI_MEDIA_URL", media_url(s3_endpoint, bucket))
    result = await asyncio.to_thread(yishi, "export", "--tenant", "comm-a", "--output", str(tmp_path / "comm-a.json"))
    assert result.exit_code == 0, result.output
    document = decode((tmp_path / "comm-a.json").read_bytes())
    [(key, content)] = objects(s3, bucket).items()
    assert document.photos == {key.removeprefix("yishi/"): base64.b64encode(content).decode("ascii")}
