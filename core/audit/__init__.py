"""Checking the event log as an operator: every tenant's chain verified, and signed checkpoints of their heads."""
