"""The append pipeline: the ``Ledger`` application and what one append goes through.

``batch`` parses and validates lines and runs the store-dependent checks,
``judging`` turns appended facts into findings, ``registry`` keeps the published
notices and recipients, ``definition_file`` reads register files, and
``application`` ties them into one transaction per call.
"""
