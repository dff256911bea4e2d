"""Retention: per subject and category, what is due for erasure and what is held."""
