"""Test doubles that speak real protocols (fake Azure, S3 and PostgreSQL servers), for tests and benchmarks."""
