"""The data team's Airflow plugins: wrappers of the Spark operators with the team's defaults."""
