"""Run a Python function as the driver of a Spark job on Moka with ``@task.moka_pyspark``.

``lines`` is an ordinary task; its XCom is the argument of ``count_words``, whose body runs in the
driver of a SparkApplication with a SparkSession first (the task does not create it). What the
function prints is in the task log; what it returns (JSON) is the task's XCom, which ``show``
prints. Every MokaSparkOperator argument applies: here the resources, a Spark property, and
waiting in the triggerer. On `moka local` the job runs with pyspark on this machine.
"""

from __future__ import annotations

from airflow.sdk import DAG, task

TEXT = "the quick brown fox\njumps over the lazy dog\nthe dog sleeps"

with DAG(
    "moka_pyspark_wordcount",
    schedule=None,
    catchup=False,
    tags=["moka", "example", "spark"],
    params={"text": TEXT},
):

    @task
    def lines(text: str) -> list[str]:
        return [line for line in text.splitlines() if line.strip()]

    @task.moka_pyspark(
        driver={"cores": 1, "memory": "512m"},
        executors={"instances": 1, "cores": 1, "memory": "512m"},
        spark_conf={"spark.sql.shuffle.partitions": 2},
        deferrable=True,
        start_timeout=300,
    )
    def count_words(spark, lines: list[str], top: int) -> list[list]:
        # Runs in the Spark driver: imports go inside the function.
        from pyspark.sql import functions as F

        frame = spark.createDataFrame([(line,) for line in lines], ["line"])
        words = frame.select(F.explode(F.split(F.lower("line"), r"\s+")).alias("word"))
        counts = words.groupBy("word").count().orderBy(F.desc("count"), "word").limit(top)
        print(f"counted {words.count()} words")
        return [[row["word"], row["count"]] for row in counts.collect()]

    @task
    def show(counts: list[list]) -> None:
        for word, count in counts:
            print(f"{word}: {count}")

    # Type checkers see the function's own parameters, the session first: use
    # moka_provider.decorators.moka_pyspark.moka_pyspark_task for types without it.
    show(count_words(lines("{{ params.text }}"), top=3))  # type: ignore[misc, call-arg, arg-type]
