"""Tokens, roles and the recorded access log."""
