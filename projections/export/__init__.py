"""The data-subject access package (GDPR Art. 15) and portable copy (Art. 20)."""
