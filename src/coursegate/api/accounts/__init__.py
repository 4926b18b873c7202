"""The class-account routes: a course instance's accounts (:mod:`.course`), one account
(:mod:`.actions`), the administrators' pool (:mod:`.admin`), and their shapes (:mod:`.shapes`)."""
