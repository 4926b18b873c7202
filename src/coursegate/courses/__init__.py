"""Reading and validating course files into the core's model (the only package that reads them).

* :mod:`~coursegate.courses.problems` — errors and warnings with file, JSON path and a sentence.
* :mod:`~coursegate.courses.models` — typed (pydantic) models of the access-control objects.
* :mod:`~coursegate.courses.keys` — the keys PrairieLearn defines in each file (accepted, left
  alone), the "did you mean" check for unknown ones, ``uuid`` and ``set``.
* :mod:`~coursegate.courses.normalise` — models → core values, dates in the right zone, and the
  semantic checks (release before due, credits decreasing, ...).
* :mod:`~coursegate.courses.reading` — reads one file safely: only regular files inside the
  course directory, bounded in size, JSON bounded in depth and without duplicate keys.
* :mod:`~coursegate.courses.loader` — walks a course directory (bounded, no links out, no
  loops) and checks across files (uuids, assessment sets).
* :mod:`~coursegate.courses.schema` — JSON Schemas for editors.
"""
