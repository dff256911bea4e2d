"""Disclosures by recipient, subject, category and period (and the breach question)."""
