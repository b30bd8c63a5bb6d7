"""Benches run by `make bench` (`python -m tests.bench`): one module per area, each printing its
figures and writing var/bench/<area>.json. Not collected by pytest (no test_* files)."""
