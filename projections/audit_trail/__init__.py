"""The audit trail: every event of a subject with position, clocks, actor, source."""
