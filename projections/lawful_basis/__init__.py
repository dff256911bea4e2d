"""Lawful-basis intervals per subject and purpose, at any instant, as known at any time."""
