"""Benchmarks behind ``make bench``: throughput and peak memory of the steps."""
