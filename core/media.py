"""Photos: content-checked (JPEG, PNG, WebP only), re-encoded without EXIF or GPS, stored under server-made keys."""

from __future__ import annotations

import asyncio
import io
import uuid
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import InvalidInput

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


class LocalPhotoStore:
    """Photos on local disk, one folder per tenant; keys are random, never the uploaded name."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, tenant_id: uuid.UUID, image: CleanImage) -> str:
        key = f"{tenant_id.hex}/{uuid.uuid4().hex}{image.extension}"
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(image.data)
        return key

    def load(self, key: str) -> bytes:
        return (self.root / key).read_bytes()
