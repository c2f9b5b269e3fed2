"""Monarch -> Moka: moving Spark-on-YARN tasks (SparkSubmitOperator, ``spark-submit`` commands) to Moka.

``spark_submit`` reads what a task asks spark-submit to do, from a command line or from the
apache-spark provider's operator arguments, into one neutral :class:`~.spark_submit.SparkSubmit`;
``translate`` turns that into MokaSparkOperator arguments plus findings saying what was mapped,
renamed, dropped, or needs a human. Both are pure logic, so the drop-in operators
(:mod:`moka_provider.operators.monarch`), the DAG rewriter and the tests share them without Airflow
or Kubernetes. ``rewrite`` (with ``rewrite_read``, ``rewrite_calls``, ``rewrite_values``) rewrites a
DAG file's source on a concrete syntax tree, ``airflow3`` (with ``airflow3_rewrite`` and the
table ``airflow3_paths``) then brings it to Airflow 3, ``report`` describes what they did, ``check``
loads migrated files next to their originals (``--check``), and ``cli`` is ``moka migrate``. The program that runs SparkSqlOperator's SQL on Moka is package data
(``moka_provider/data/spark/spark_sql_runner.py``).
"""
