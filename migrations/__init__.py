"""Alembic migrations of the core (branch `core`); plugins keep theirs on their own branches."""
