"""Reports of an upgrade run: text (rich), JSON, SARIF and GitHub annotations."""
