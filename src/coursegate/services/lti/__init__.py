"""coursegate as an LTI 1.3 tool: platforms an administrator registers (``platforms``), the
tool's own signing keys and JWKS (``keys``), the platforms' key sets fetched and cached
(``platform_keys``), and the OIDC login and launch (``launch``). The rules a launch must pass
are the pure :mod:`coursegate.lti`; this package does the I/O around them."""
