"""A small real PySpark job standing in for the Monarch ETL applications of the migration corpus.

``monarch_job.py NAME [ARGUMENTS...]``: starts a SparkSession, counts a generated data set by
bucket, and prints one line naming the job, its arguments and a few properties it ran with, so a
test can see in the task log that the job ran with what the (rewritten) DAG asked for.
"""

import sys

from pyspark.sql import SparkSession

name, arguments = sys.argv[1], sys.argv[2:]
spark = SparkSession.builder.getOrCreate()
rows = spark.range(0, 1000).selectExpr("id % 7 AS bucket").groupBy("bucket").count().collect()
partitions = spark.conf.get("spark.sql.shuffle.partitions")
print(
    f"monarch job {name} args={arguments} buckets={len(rows)} rows={sum(row['count'] for row in rows)} "
    f"shuffle_partitions={partitions}",
    flush=True,
)
spark.stop()
