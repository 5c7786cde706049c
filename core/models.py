"""Imports every model of the core, so that the metadata (and Alembic) knows all tables."""

from core.accounts.models import LoginThrottle, RoleAssignment, User
from core.tenancy.models import Building, Compound, Tenant

__all__ = ["Building", "Compound", "LoginThrottle", "RoleAssignment", "Tenant", "User"]
