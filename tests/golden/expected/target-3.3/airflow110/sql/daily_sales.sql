-- Daily sales rollup, one partition per execution day.
-- Rendered by BigQueryOperator (template_ext .sql); {{ ds }} is the run's logical day.
SELECT
  store_id,
  DATE('{{ ds }}') AS sales_date,
  SUM(quantity) AS units,
  SUM(quantity * unit_price) AS gross_revenue,
  COUNT(DISTINCT order_id) AS orders
FROM `acme-retail.staging.pos_transactions`
WHERE _PARTITIONDATE = '{{ ds }}'
  -- late-arriving rows are loaded with the following day's partition
  OR (_PARTITIONDATE = '{{ macros.ds_add(ds, 1) }}' AND event_ts < TIMESTAMP('{{ data_interval_end | ds }}'))
GROUP BY store_id
-- loaded at {{ logical_date | ts }}, previous partition {{ macros.ds_format(macros.ds_add(ds, -1), '%Y-%m-%d', '%Y%m%d') }}
