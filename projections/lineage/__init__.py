"""Lineage of each datum: its source, its changes, what was derived from it, who got it."""
