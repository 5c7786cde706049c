"""Steps 2–6 of the method: topics and their state machine, research, meetings, decisions, publication, supervision."""
