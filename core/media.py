"""Photos: content-checked (JPEG, PNG, WebP only), re-encoded without EXIF or GPS, stored under server-made keys
in a local folder or an S3-compatible bucket."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qsl, urlsplit

import obstore
from obstore.exceptions import BaseError
from obstore.store import LocalStore, S3Store
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from core.errors import InvalidInput, NotFound, Unavailable

if TYPE_CHECKING:
    from obstore.store import ClientConfig, ObjectStore, RetryConfig, S3Config

    from core.settings import Settings

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # beyond this a "photo" is a decompression bomb, not a picture of a roof
FORMATS = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png"), "WEBP": ("image/webp", ".webp")}


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def clean_image(raw: bytes, field: str = "file") -> CleanImage:
    """Check what the bytes really are and re-encode them from pixels only, so no metadata survives."""
    if len(raw) > MAX_BYTES:
        raise InvalidInput("照片不能超过 {size} MB", field=field, size=MAX_BYTES // (1024 * 1024))
    if not raw:
        raise InvalidInput("照片是空文件", field=field)
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            fmt = probe.format
            if fmt not in FORMATS:
                raise InvalidInput("只接受 JPEG、PNG 或 WebP 照片", field=field)
            if probe.width * probe.height > MAX_PIXELS:
                raise InvalidInput("照片像素过多", field=field)
            probe.load()
            image = ImageOps.exif_transpose(probe)  # keep the orientation the camera meant, then drop EXIF
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError, ValueError):
        raise InvalidInput("文件不是可读的 JPEG、PNG 或 WebP 照片", field=field) from None
    pixels = image.copy()
    pixels.info = {}  # EXIF, GPS, text chunks, XMP: nothing but pixels is written back
    out = io.BytesIO()
    if fmt == "JPEG":
        pixels.convert("RGB").save(out, "JPEG", quality=90)
    else:
        pixels.save(out, fmt)
    content_type, extension = FORMATS[fmt]
    return CleanImage(out.getvalue(), content_type, extension, image.width, image.height)


# Decoding holds a whole bitmap in memory (up to MAX_PIXELS × 4 bytes): at most this many at once per process.
_DECODING = asyncio.Semaphore(2)


async def clean_upload(raw: bytes, field: str = "file") -> CleanImage:
    """`clean_image` in a worker thread. A request calls it before its first query: decoding a large photo takes
    long enough to stall every request on the event loop, and on SQLite a transaction holds the write lock from
    its first statement, so decoding inside one makes the other uploads wait for the lock until they fail."""
    async with _DECODING:
        return await asyncio.to_thread(clean_image, raw, field)


log = logging.getLogger("yishi.media")
# URL query parameters of YISHI_MEDIA_URL passed on to the S3 client (anything else is refused at start-up).
S3_OPTIONS = {"endpoint": "endpoint", "region": "region", "virtual_hosted": "virtual_hosted_style_request"}
# A bucket that does not answer fails the upload within seconds (a 503), rather than holding the request for
# the client's default minutes of retries.
S3_CLIENT: dict[str, Any] = {"connect_timeout": "5s", "timeout": "30s"}
S3_RETRY: dict[str, Any] = {"max_retries": 2, "retry_timeout": timedelta(seconds=10)}


class PhotoStore:
    """Photos in an object store — a local folder (the default) or an S3-compatible bucket, both through
    obstore's one interface — one prefix per tenant; keys are random, never the uploaded name. A bucket is
    never public: photos are read only through the app's routes, which check who may see them."""

    def __init__(self, store: ObjectStore, where: str) -> None:
        self.store = store
        self.where = where  # for messages to the operator: the folder or s3://bucket/prefix

    @classmethod
    def local(cls, root: Path | str) -> PhotoStore:
        root = Path(root).resolve()
        return cls(LocalStore(root, mkdir=True), str(root))

    @classmethod
    def s3(cls, url: str) -> PhotoStore:
        """`s3://bucket/prefix?endpoint=https://oss-cn-hangzhou.aliyuncs.com&region=cn-hangzhou&virtual_hosted=true`;
        credentials from the standard AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN) variables."""
        parts = urlsplit(url)
        if not parts.netloc:
            raise ValueError(f"YISHI_MEDIA_URL names no bucket: {url}")
        config: dict[str, Any] = {}
        for name, value in parse_qsl(parts.query):
            if name not in S3_OPTIONS:
                raise ValueError(f"YISHI_MEDIA_URL: unknown option {name!r} (known: {', '.join(S3_OPTIONS)})")
            config[S3_OPTIONS[name]] = value.lower() in {"1", "true", "yes"} if name == "virtual_hosted" else value
        client = {**S3_CLIENT, "allow_http": config.get("endpoint", "").startswith("http://")}
        store = S3Store(parts.netloc, prefix=parts.path.strip("/") or None, config=cast("S3Config", config),
                        client_options=cast("ClientConfig", client), retry_config=cast("RetryConfig", S3_RETRY))
        return cls(store, f"s3://{parts.netloc}{parts.path}")

    async def save(self, session: AsyncSession, tenant_id: uuid.UUID, image: CleanImage) -> str:
        """Store `image` under a new key, before its Photo row is written: an upload that fails leaves no row.
        The key is remembered on `session` so that if its transaction rolls back the object is deleted again."""
        key = f"{tenant_id.hex}/{uuid.uuid4().hex}{image.extension}"
        await self.put(key, image.data)
        session.info.setdefault(UNCOMMITTED, []).append((self, key))
        return key

    async def put(self, key: str, data: bytes) -> None:
        try:
            await obstore.put_async(self.store, key, data)
        except (BaseError, OSError) as exc:  # unreachable, refused, no such bucket (a FileNotFoundError)
            log.error("photo store %s refused %s: %s", self.where, key, str(exc).splitlines()[0])
            raise Unavailable("照片存储暂时不可用，照片未保存，请稍后再试") from None

    async def load(self, key: str) -> bytes:
        try:
            result = await obstore.get_async(self.store, key)
            return bytes(await result.bytes_async())
        except FileNotFoundError:
            log.error("photo %s missing from %s", key, self.where)
            raise NotFound("照片文件缺失") from None
        except (BaseError, OSError) as exc:
            log.error("photo store %s failed reading %s: %s", self.where, key, str(exc).splitlines()[0])
            raise Unavailable("照片存储暂时不可用，请稍后再试") from None

    async def exists(self, key: str) -> bool:
        try:
            await obstore.head_async(self.store, key)
        except FileNotFoundError:
            return False
        return True

    async def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):  # already gone: what deleting it wanted
            await obstore.delete_async(self.store, key)


def photo_store_from(settings: Settings) -> PhotoStore:
    """The store `YISHI_MEDIA_URL` names (`s3://…`, `file:///path`), or the folder YISHI_MEDIA_DIR when unset."""
    url = settings.media_url.strip()
    if not url:
        return PhotoStore.local(settings.media_dir)
    scheme = urlsplit(url).scheme
    if scheme == "s3":
        return PhotoStore.s3(url)
    if scheme == "file":
        return PhotoStore.local(urlsplit(url).path)
    raise ValueError(f"YISHI_MEDIA_URL must be s3://bucket/prefix or file:///path, not {url}")


# --- objects whose row never committed -----------------------------------------------------------------------

# session.info key: (store, key) of each photo saved in the session's current transaction.
UNCOMMITTED = "yishi.uncommitted_photos"
# session.info key: the same, once their transaction rolled back: deleted by `discard_rolled_back`.
ROLLED_BACK = "yishi.rolled_back_photos"


@event.listens_for(Session, "after_commit")
def _photos_committed(session: Session) -> None:
    session.info.pop(UNCOMMITTED, None)


@event.listens_for(Session, "after_soft_rollback")
def _photos_rolled_back(session: Session, previous: SessionTransaction) -> None:
    # Only the outermost transaction: a savepoint rolled back inside it does not undo the rows around it.
    if previous.parent is None and (saved := session.info.pop(UNCOMMITTED, None)):
        session.info.setdefault(ROLLED_BACK, []).extend(saved)


async def discard_rolled_back(session: AsyncSession) -> None:
    """Delete the objects of photos whose rows were rolled back (a refused request, a failed commit). If the
    store does not answer now either, the object stays behind unreferenced: it is never served (photos are
    read by their row) and is logged, so the operator can remove it."""
    rolled_back = session.info.pop(ROLLED_BACK, [])
    if not session.in_transaction():  # saved while no transaction was open: nothing can commit their rows now
        rolled_back.extend(session.info.pop(UNCOMMITTED, []))
    for store, key in rolled_back:
        try:
            await store.delete(key)
        except (BaseError, OSError) as exc:
            log.warning("photo %s left in %s after its row was rolled back: %s", key, store.where,
                        str(exc).splitlines()[0])
