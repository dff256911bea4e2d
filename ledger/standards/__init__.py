"""Speaking the standards: DPV terms, consent receipts (ISO/IEC TS 27560, Kantara), PROV."""
