"""LTI 1.3's rules, pure: what a platform's id_token must say before coursegate believes it
(:mod:`coursegate.lti.claims`) and which course role an LMS membership role gives
(:mod:`coursegate.lti.membership`). No I/O, no clock (every check takes ``at``), no JOSE: the
signature is checked in ``services/lti`` with a maintained library, then the claims come here.
"""
