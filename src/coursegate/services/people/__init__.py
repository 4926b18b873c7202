"""People, shared by every system: users and their fields, importing them, signing in (passwords,
sessions, tokens, view-as, throttling), who may act on a person's own account (:mod:`.persons`),
and giving or ending a person's roles (:mod:`.grants`)."""
