"""The ``coursegate`` command line: thin commands over the services and the cores."""
