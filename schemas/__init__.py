"""The ledger's published language: pydantic models only, no I/O.

Everything a service, a script or an auditor relies on (the NDJSON append envelope,
the event catalogue, the register definition and the answers) is defined here, and
JSON Schema files generated from these models are committed under ``schemas/json``.
"""
