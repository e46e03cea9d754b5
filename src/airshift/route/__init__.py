"""`airshift route`: the trigger gateway. External schedulers call it instead of Airflow, in the shape
they already speak (1.10 experimental API, 2.x `/api/v1`, 3.x `/api/v2`, Pub/Sub push); it asks the
cutover journal which side owns the DAG, forwards the trigger there and answers in the caller's shape.

Layout: `model` (one normalized trigger and run), `dates` (date parsing and localisation),
`shapes/` (one module per inbound shape: parse, answer), `auth` (callers), `sides` (the Airflows),
`router` (owner lookup, idempotency), `app` (FastAPI routes), `status_page` (the cached cutover
status), `serve` (everything put together from the plan and the command-line options)."""
