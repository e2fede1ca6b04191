"""Helpers shared by the tests; the fixtures built on them are defined in ``tests/conftest.py``.

Test modules import helpers from here (``from tests.support.studies import tiny_study``),
never from ``conftest`` or from another test module, and never import fixtures at all.
"""
