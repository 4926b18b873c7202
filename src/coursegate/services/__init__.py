"""Use cases: what every interface (the command line, the HTTP API, the pages) calls.

One subpackage per system of the specification — :mod:`.access` (assessment and course-instance
access), :mod:`.roles` (roles and privileges), :mod:`.accounts` (class accounts) — over what they
share: :mod:`.courses` (course instances, sync, the roster, enrollment), :mod:`.people` (users,
sign-in, a person's own account, role grants), :mod:`.history` and :mod:`.common` (the caller,
errors, asking the roles core, where a course instance sits). The import contracts in
``pyproject.toml`` keep that order; ARCHITECTURE.md draws it.
"""
