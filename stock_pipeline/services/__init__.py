"""Services over the Dagster instance and the warehouse: the symbol registry, quarantine,
sync planning and running, run reports and alerts.

Imports ``domain``, ``settings``, ``yahoo`` and ``warehouse`` and Dagster's instance API;
never the definitions in ``defs`` (they build on these services, not the other way round).
"""
