{% include 'queries/filters.sql' %}
SELECT '{{ ds }}', '{{ execution_date }}', '{{ next_ds }}' FROM events
