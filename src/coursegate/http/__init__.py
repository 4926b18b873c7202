"""The HTTP machinery the JSON API and the pages share: who is calling (:mod:`.deps`), what each
route requires (:mod:`.policy`), the one error shape (:mod:`.errors`), checked input
(:mod:`.schemas`), the settings (:mod:`.settings`), and the cookie and client address
(:mod:`.client`)."""
