"""System 2, roles and privileges, as use cases: the roles pages and API — role assignments in a
course or a domain, with their standing, and custom roles (:mod:`.assignments`). The roles core
(:mod:`coursegate.roles`) decides; granting itself is :mod:`coursegate.services.people.grants`."""
