"""The decision core: pure, typed functions of configuration, facts and time.

Nothing in this package performs I/O or reads the clock; every decision takes `at`.
See ARCHITECTURE.md for the map of modules.
"""
