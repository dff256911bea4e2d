"""The demo face: a generated population (``population``) and a DPO's tour (``tour``)."""
