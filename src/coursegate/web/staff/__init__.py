"""The staff pages of a course instance: the frame they share (:mod:`.frame`), the overview, one
assessment and one student (:mod:`.overview`), the matrix (:mod:`.matrix`), the access rules
(:mod:`.rules`) and exceptions (:mod:`.exceptions`)."""
