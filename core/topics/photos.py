"""Photos of a site visit or a progress report: stored like concern photos, owned by the workflow record."""

from __future__ import annotations

import uuid

from litestar import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.concerns.models import Photo
from core.concerns.schemas import PhotoOut
from core.errors import Conflict, NotFound
from core.media import CleanImage
from core.tenancy.scope import TenantScope
from core.topics.models import ActionItem, ActionProgress, Research
from core.topics.services import TopicService

MAX_PHOTOS = 9


async def add_workflow_photo(request: Request, session: AsyncSession, scope: TenantScope, kind: str,
                             owner_id: uuid.UUID, parent_id: uuid.UUID, image: CleanImage) -> PhotoOut:
    """`kind` is "research" (parent: the topic) or "progress" (parent: the action item)."""
    if kind == "research":
        owner = await session.scalar(select(Research).where(Research.id == owner_id, Research.topic_id == parent_id))
    else:
        action = await TopicService(session, scope).action(parent_id)  # also checks the reporter may see it
        TopicService(session, scope).require_owner_or_staff(action)
        owner = await session.scalar(select(ActionProgress).where(ActionProgress.id == owner_id,
                                                                  ActionProgress.action_id == action.id))
    if owner is None:
        raise NotFound("没有这条记录")
    count = len((await session.scalars(select(Photo.id).where(Photo.owner_kind == kind, Photo.owner_id == owner_id))).all())
    if count >= MAX_PHOTOS:
        raise Conflict("每条记录最多 {limit} 张照片", limit=MAX_PHOTOS)
    key = await request.app.state.photo_store.save(session, scope.tenant.id, image)
    photo = Photo(owner_kind=kind, owner_id=owner_id, storage_key=key, content_type=image.content_type,
                  size=len(image.data), width=image.width, height=image.height, uploaded_by_id=scope.user_id)
    session.add(photo)
    await session.flush()
    return PhotoOut(id=photo.id, content_type=photo.content_type, width=photo.width, height=photo.height,
                    size=photo.size)


async def workflow_photo(session: AsyncSession, scope: TenantScope, photo_id: uuid.UUID) -> Photo:
    """A site-visit or progress photo for someone signed in, by the same rule as the action items list: readers
    of topics see every one of their tenant's; whoever carries out an action item sees the photos of its progress."""
    photo = await session.scalar(select(Photo).where(Photo.id == photo_id,
                                                     Photo.owner_kind.in_(("research", "progress"))))
    if photo is not None and not scope.can("topic.read"):
        owner = await session.scalar(
            select(ActionItem.owner_user_id).join(ActionProgress, (ActionProgress.tenant_id == ActionItem.tenant_id)
                                                  & (ActionProgress.action_id == ActionItem.id))
            .where(ActionProgress.id == photo.owner_id)) if photo.owner_kind == "progress" else None
        if owner is None or owner != scope.user_id:
            photo = None
    if photo is None:
        raise NotFound("没有这张照片")
    return photo
