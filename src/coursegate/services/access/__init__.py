"""System 1, assessment and course-instance access, as use cases: decisions from files and from
the store (:mod:`.decisions`), per-student exceptions (:mod:`.exceptions`), attempts, exam
reservations, the calendar, and the staff pages' read-only views (:mod:`.staff`). Every answer
comes from :mod:`coursegate.core`.
"""
