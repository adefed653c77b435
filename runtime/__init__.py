"""The composition root: builds every service once per process and registers the jobs.

The web workers, the CLI and the scheduler all use the same :class:`runtime.services.Services`.
Only the edges (``app``, ``wsgi``, ``web``) import this package.
"""
