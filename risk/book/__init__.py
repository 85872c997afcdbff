"""The pledge book's pure rules: an asset's legal record from its events, office codes, bulk
legal-status files, alert decisions, and one loan's monitoring evaluation (issue 11).

No I/O: the API keeps the book and calls these.
"""
