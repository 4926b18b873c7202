"""Read-only views the staff pages need that no other use case gives: the assessment list and the
editor's context (:mod:`.assessments`), what is published (:mod:`.publishing`), an assessment's
timeline lane by lane (:mod:`.timeline_lanes`), and the course's people (:mod:`.people`).
"""
