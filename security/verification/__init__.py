"""Assisted account verification (spec/accounts.md §4.2): text extraction, explainable scoring,
and a generator of labelled sample documents for tests, the bench and the demo."""
