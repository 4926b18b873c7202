"""Use cases: every interface (CLI, HTTP, web) calls these.

Each use case takes the acting user and ``at``, checks privileges through the roles core,
writes history, and runs in one transaction. None re-implements a rule of the cores.
"""
