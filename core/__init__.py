"""Framework-free heart of ``secure_api``.

Nothing in this package imports ``odoo``: every module works on plain data
(dicts of field metadata, lists of values) so that it is unit-tested under
pytest without an Odoo server, and the Odoo layer stays a thin adapter.
"""
