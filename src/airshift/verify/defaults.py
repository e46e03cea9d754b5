"""Defaults of verify and snapshot that the command line shows in `--help`, kept apart from the
pipeline so that reading them imports nothing heavy."""

DEFAULT_LOGICAL_DATE = "2024-03-01T00:00:00"
DEFAULT_FILE_TIMEOUT = 30.0
# `airshift fix` writes the providers the migrated code needs here; the target runtime installs them.
FIX_REQUIREMENTS = "airshift-requirements.txt"
