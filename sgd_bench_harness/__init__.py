"""The harness around the ``sgd_bench`` engine: experiments, grids, records, reports, the CLI.

``sgd_bench`` computes (problems' types, methods, samplers, the runner, statistics, theory) and
imports nothing from here; this package runs those computations as named experiments and stores,
checks and shows what they measured:

- ``experiments``: the registry of experiments, one module each (``sgd-bench run NAME``);
- ``experiment``: the command line every experiment shares, output folders, locks, claims;
- ``grid``: ad-hoc ``--problem`` x ``--method`` grids over seed blocks, resumable;
- ``results``: records (Parquet / CSV), ``meta.json``, config hashes, atomic writes;
- ``plots`` and ``pages``: figures and the HTML result pages;
- ``cli``: the ``sgd-bench`` command (``list``, ``run``, ``report``, ``env``);
- ``launch``: one program as several JAX processes on this machine;
- ``compile_cache``: the command line's persistent JAX compilation cache;
- ``benchopt``: sgd-bench methods as benchopt solvers (``integrations/benchopt/`` uses it).
"""
