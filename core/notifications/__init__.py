"""Notifications: who is told what of each event, in which channel, delivered by the job engine."""
