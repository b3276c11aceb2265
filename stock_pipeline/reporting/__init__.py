"""What people read: per-symbol status, deployment health, charts and tables of bars.

Imports ``domain``, ``settings``, ``warehouse`` and ``services``; never ``defs``.
"""
