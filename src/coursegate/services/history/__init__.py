"""The history: every change recorded with who did it, as whom, when and why
(:func:`.log.record`), and read back page by page (:func:`.log.query_history`)."""
