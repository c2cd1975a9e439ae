"""Recovery time: ``features`` (facts known before the outage), ``models`` (the fitted models),
``candidates`` (every model tried, leave-one-out and pre-registered endpoints) and ``labels``
(the blinded recovery-mechanism labels).
"""
