"""Apache Airflow provider for Moka, the Kubernetes batch data platform (Spark, Flink Batch, Ray)."""

__version__ = "0.1.0"
