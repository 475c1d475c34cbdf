"""Curation, the domain of sharing back: contributions and their review, people.yaml edits and
re-ingest, knowledge gaps and analytics, and the AVG export and erasure of a person.

Channels (``bots/``) render forms and cards and call ``curation.service.Sharing``; this package
knows nothing about them.
"""
