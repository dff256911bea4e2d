"""The register view: a subject's data by category, contracts, consents, objections."""
