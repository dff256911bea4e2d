"""Data-subject rights and keys: erasure by crypto-shredding, master key rotation.

Retention (what is due) is read from the views: ``projections.retention``.
"""
