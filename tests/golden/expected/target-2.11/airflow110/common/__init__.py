# Shared code for the DAGs of the retail analytics team (imported as `common.*`).
