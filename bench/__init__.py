"""Benchmarks of Yishi: `make bench` runs `python -m bench.run`, which prints the figures and writes bench/results/latest.json."""
