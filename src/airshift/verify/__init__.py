"""Verification: real Airflow runtimes (cached uv venvs), probes that run inside them, and their results."""

from airshift.verify.runtimes import Runtime, ensure_runtime, list_runtimes, remove_runtime

__all__ = ["Runtime", "ensure_runtime", "list_runtimes", "remove_runtime"]
