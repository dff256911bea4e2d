"""The HTTP face: ``ledger serve`` over the same ``Core`` as the command line.

Every endpoint is a thin call of the library function its command makes
(``ledger.cli``); answers are the same JSON. One writer thread owns every write
(group commit, ``writer``); one lock guards every use of the core (``gate``).
"""
