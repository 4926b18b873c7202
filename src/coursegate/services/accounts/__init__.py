"""Class accounts: recyclable accounts handed to a course's students each term and returned,
clean, at its end (DeterLab's class accounts on top of the store and the roles core).

* :mod:`~coursegate.services.accounts.rules` — the pure rules: stems and suffixes (aa..zz, 676 per
  stem), the term-end schedule, who acts over whom, placeholder and alias addresses;
* :mod:`~coursegate.services.accounts.service` — the use cases, imported from one place:
  :mod:`~coursegate.services.accounts.pool` (stems, generating),
  :mod:`~coursegate.services.accounts.assign` (assigning, the credentials mail),
  :mod:`~coursegate.services.accounts.actions` (the instructors' and TAs' actions, locks, staff
  keys), :mod:`~coursegate.services.accounts.views` (the list, the schedule and the end date, the
  outbox, metrics); :mod:`~coursegate.services.accounts.common` and
  :mod:`~coursegate.services.accounts.service_base` hold what they share;
* :mod:`~coursegate.services.accounts.wipe` — the resumable wipe procedure and its safety rules;
* :mod:`~coursegate.services.accounts.schedule` — the term-end job (``run-schedule``);
* :mod:`~coursegate.services.accounts.credentials` — passwords, SSH keys, client certificates;
* :mod:`~coursegate.services.accounts.mail` — queued mail, SMTP or the Maildir outbox;
* :mod:`~coursegate.services.accounts.hooks` — site hooks run inside a wipe;
* :mod:`~coursegate.services.accounts.exports` — the sudoers include and authorized_keys lines;
* :mod:`~coursegate.services.accounts.site` — the settings they act with outside the database.

User documentation: ``docs/class-accounts.md``.
"""
