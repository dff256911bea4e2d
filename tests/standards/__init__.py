"""Tests of the standards: DPV terms, consent receipts, notices, PROV lineage."""
