"""What plugins' own portal pages share: a `Page` that exists only where the tenant enabled the plugin, and
the folders of the plugins' templates (hook `yishi_portal_pages`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request
from litestar.di import Provide
from litestar.params import FromPath

from core.errors import NotFound
from core.http import DbSession
from core.portal.pages import Page, provide_page


def require_plugin(page: Page, name: str) -> None:
    """A mechanism the tenant has not switched on does not exist there: its pages answer 404, as its API does."""
    if name not in (page.tenant.plugins or ()):
        raise NotFound(page._("There is no such page here."))


def plugin_page(name: str) -> Provide:
    """The `page` dependency of a plugin's portal controller: `dependencies = {"page": plugin_page(NAME)}`."""

    async def provide_plugin_page(request: Request, db_session: DbSession, slug: FromPath[str]) -> Page:
        page = await provide_page(request, db_session, slug)
        require_plugin(page, name)
        return page

    return Provide(provide_plugin_page)


def plugin_template_dirs(plugins: Any) -> list[Path]:
    """Each installed plugin's `templates/` folder (templates inside it go under `<plugin name>/`)."""
    found = []
    for name in plugins.names:
        module_file = getattr(plugins.info[name].module, "__file__", None)
        if module_file:
            folder = Path(module_file).parent / "templates"
            if folder.is_dir():
                found.append(folder)
    return found


def plugin_portal_pages(plugins: Any) -> list[Any]:
    """Every plugin's portal controllers, in the plugins' order."""
    return [controller for _name, controllers in sorted(plugins.contributions.portal_pages.items())
            for controller in controllers]
