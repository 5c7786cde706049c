"""Step 1, collect concerns (收集问题): filing, photos, triage, escalation and public tracking."""
