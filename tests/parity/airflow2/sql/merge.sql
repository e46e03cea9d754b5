MERGE INTO dw.orders o USING staging.orders s ON o.id = s.id
WHEN MATCHED THEN UPDATE SET updated_for = '{{ ds }}'
WHEN NOT MATCHED THEN INSERT VALUES (s.id, '{{ execution_date }}', '{{ tomorrow_ds }}');
