"""What every face (the command line, the HTTP service) says the same way.

The problem shape and the rule code of each error, the sealing note of a write's
answer, the problems of a ``check`` answer, and one time format. Both faces
import these, so the same question gets the same JSON from either.
"""
