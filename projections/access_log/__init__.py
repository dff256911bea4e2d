"""Who read decrypted personal data, when, of which subject, and why (the access log)."""
