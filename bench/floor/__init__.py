"""Benchmark-only views: raw-SQL floors and a plain-DRF reference (bench/run).

Routed under ``/bench/`` only when ``BENCH_FLOOR_VIEWS`` is on, which production
settings refuse unless the server answers loopback host names only. See
docs/performance.md, "The benchmark suite".
"""
