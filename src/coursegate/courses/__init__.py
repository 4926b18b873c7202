"""Reading and validating course files into the core's model (the only package that reads them).

* :mod:`~coursegate.courses.problems` — errors and warnings with file, JSON path and a sentence.
* :mod:`~coursegate.courses.models` — typed (pydantic) models of the access-control objects.
* :mod:`~coursegate.courses.keys` — the keys PrairieLearn defines in each file (accepted, left
  alone), the "did you mean" check for unknown ones, ``uuid`` and ``set``.
* models → core values, dates read in the course instance's zone (:mod:`.reader`): an
  assessment's legacy rules (:mod:`.legacy_access`), the modern list (:mod:`.modern_access`) and
  the RFC object (:mod:`.rfc_access`) with their deadlines (:mod:`.deadlines`); a course
  instance's settings (:mod:`.instance_settings`); an assessment's configuration and a student's
  own overrides (:mod:`.assessments`); the semantic checks (:mod:`.settings_checks`: release
  before due, credits decreasing, ...).
* :mod:`~coursegate.courses.convert` — ``coursegate convert``: legacy files to a modern proposal.
* :mod:`~coursegate.courses.reading` — reads one file safely: only regular files inside the
  course directory, bounded in size, JSON bounded in depth and without duplicate keys.
* :mod:`~coursegate.courses.loader` — walks a course directory (bounded, no links out, no
  loops) and checks across files (uuids, assessment sets).
* :mod:`~coursegate.courses.schema` — JSON Schemas for editors.
"""
