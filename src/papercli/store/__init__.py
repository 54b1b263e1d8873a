"""Everything papercli stores, and the only package that speaks SQL.

One module per kind of stored thing: ``connection`` (the database file: open, check,
migrate, back up), ``base`` (the SQLite plumbing they share), ``migrations`` (the schema),
``shipped`` (the catalogue's seed), ``papers`` (adding, listing and reading papers),
``authors`` (who wrote each paper), ``lookups`` (finding a paper by what a user types),
``arxiv_meta`` (what arXiv said), ``fts`` and ``search`` (full-text search), ``library``
(the user's reading status, history and queue), ``notes`` (notes and tags), ``changes``
(the change log behind undo and redo), ``merge`` (what export reads and import merges),
``progress`` (the counts behind ``stats``) and ``watches`` (saved interests for the inbox).

What comes next gets a module of its own here: the arXiv inbox items, citation links from
Semantic Scholar, and sync events (which will build on ``changes``).
"""
