-- one hour of events
INSERT INTO events_hourly
SELECT * FROM events_raw
WHERE event_time >= '{{ execution_date }}'
  AND event_time <  '{{ next_execution_date }}'
  AND load_day = '{{ ds_nodash }}';
