-- Merge the curated orders partition for the run into the warehouse.
INSERT INTO dw.orders (order_id, customer_id, amount, ordered_at, load_date)
SELECT order_id, customer_id, amount, ordered_at, DATE '{{ ds }}'
FROM staging.orders_{{ ds_nodash }}
ON CONFLICT (order_id) DO UPDATE
  SET amount = EXCLUDED.amount,
      load_date = EXCLUDED.load_date;
-- window: {{ data_interval_start }} .. {{ data_interval_end }} (was {{ logical_date }} .. {{ next_execution_date }})
