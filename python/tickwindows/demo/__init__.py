"""Synthetic FASE 2.5 inputs for the demo and the tests: the generator and the SQL behind it."""
