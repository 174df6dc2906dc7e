"""The benchmark: `uv run python -m bench.run` (see run.py)."""
