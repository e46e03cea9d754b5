SELECT '{{ ds }}' AS day, '{{ prev_ds }}' AS previous, '{{ next_execution_date }}' AS until
FROM events WHERE day = '{{ ds }}'
