"""Courses, shared by every system: syncing a course directory into the store (:mod:`.sync` and
its report, impact and writes), the stored configuration read back (:mod:`.state`), the roster
as the core's facts (:mod:`.roster`), enrollment and sections, and a user's course instances."""
