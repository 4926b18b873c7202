"""Per-student exceptions (extensions): one at a time (:mod:`.granting`), many at once
(:mod:`.bulk`), their fields (:mod:`.fields`), whether they give the student valid settings
(:mod:`.checks`), their history (:mod:`.records`) and reading them back (:mod:`.listing`).
"""
