"""In-house processing (DataProcessed): what was done with whose data, for what."""
