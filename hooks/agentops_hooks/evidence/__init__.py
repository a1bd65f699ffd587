"""The evidence store: the notes refs and what is kept in them (verdict records,
their format and signatures), the append-only ledger check, and notes sync.

May import the core (git, change, config, trailers, authorship, ...) and the
ratchet's records; never gates, places or commands.
"""
