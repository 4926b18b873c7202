"""``coursegate accounts ...``: the class-account commands, registered by :mod:`.commands`; the
operator's environment (:mod:`.env`), shared options (:mod:`.options`), and one module per
subject (pool, term, wipe, actions, export, outbox)."""
