"""Bridges from sgd-bench's public solver API to other tools' conventions (benchopt, ...).

Each bridge is a module of its own that imports its tool only when used, so importing
``sgd_bench`` never needs them.
"""
