"""The tenant portals: server-rendered pages (Jinja2 + htmx) for residents, staff, deputies and administrators."""
