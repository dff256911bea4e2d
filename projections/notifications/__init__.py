"""What each recipient is owed under GDPR Art. 19 (rectifications, erasures, restrictions)."""
