"""Reading and validating course files into the core's model (the only package that reads them).

* :mod:`~coursegate.courses.problems` — errors and warnings with file, JSON path and a sentence.
* :mod:`~coursegate.courses.models` — typed (pydantic) models of the access-control objects.
* :mod:`~coursegate.courses.keys` — the keys PrairieLearn defines in each file (accepted, left
  alone) and the "did you mean" check for unknown ones.
* :mod:`~coursegate.courses.normalise` — models → core values, dates in the right zone, and the
  semantic checks (release before due, credits decreasing, ...).
* :mod:`~coursegate.courses.loader` — walks a course directory.
* :mod:`~coursegate.courses.schema` — JSON Schemas for editors.
"""
