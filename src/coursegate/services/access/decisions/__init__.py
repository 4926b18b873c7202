"""Decisions, one way: parse → load the course → build the core's input → decide → render.

:mod:`.request` from course files (the library and the command line), :mod:`.answers` from the
store (the HTTP API, with :mod:`.cache` keeping compiled course instances between requests);
:mod:`.student` (a student's course), :mod:`.matrix` (every student × every assessment) and
:mod:`.schedule` (dates read off a timeline) for the pages and the API.
"""
