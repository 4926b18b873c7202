"""What every use case stands on: the caller and the instant (:mod:`.context`), the errors
(:mod:`.errors`), asking the roles core with the stored assignments (:mod:`.authz`), and where a
course instance sits in the roles tree (:mod:`.places`); a concurrent edit or a duplicate
becomes one :class:`~.errors.Conflict` (:mod:`.conflicts`)."""
