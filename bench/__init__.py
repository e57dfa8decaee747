"""Validation bench: loaders for public labelled data sets and peer algorithms.

Not part of the installed ``backstride`` package; import it from the project
root (``from bench.datasets import ...``).
"""
