"""Moka in a real Airflow 3 deployment: PostgreSQL, API server, scheduler, dag-processor, triggerer."""
