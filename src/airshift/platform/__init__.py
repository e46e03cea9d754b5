"""Stand up the new platform: inventory of what exists, configuration migration, deploy files.

Small modules with one job each: `config_tables` (the generated tables), `config_plan` (what changes,
format-independent), `config_ini` / `config_env` / `config_helm` (one reader-writer per format),
`config_secrets`, `config_migrate` (the entry point the CLI calls)."""
