"""Pure domain code: intervals, symbols, the NYSE calendar, bar normalisation, validation.

Nothing in this package imports Dagster; it is tested directly.
"""
