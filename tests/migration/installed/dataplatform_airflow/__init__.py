"""The data platform's operator package, installed on the Airflow workers (not in the DAG repository)."""
