export DAY="{{ ds }}" STARTED="{{ execution_date }}" TOMORROW="{{ tomorrow_ds }}"
