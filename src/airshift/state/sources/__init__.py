"""Where transfer reads state from: a metadata database, a REST API, export files."""
