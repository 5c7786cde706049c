"""Figures of the six steps: a tenant's own, rolled up over its subtree, per community, and per year for the public."""
