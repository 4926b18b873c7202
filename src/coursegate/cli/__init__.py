"""The `coursegate` command line: thin commands over the core and (later) the services."""
