"""Who may use the ledger over a network, and the record of who read personal data.

``tokens``: access tokens issued, listed and revoked as events, and the registry a
service authenticates bearer tokens with; ``roles``: what each role may do and the
append limits of a service token; ``records``: reads of decrypted personal data
recorded in the subject's stream before they are shown.
"""
