"""Estimate pi with PySpark: the example workload of a Moka SparkApplication.

Usage: pyspark_pi.py [PARTITIONS] [--fail] [--sleep SECONDS]
(--fail raises after computing, to show a failing job; --sleep keeps it running a while first)
"""

import sys
import time
from operator import add
from random import random

from pyspark.sql import SparkSession


def inside(_: int) -> int:
    x, y = random() * 2 - 1, random() * 2 - 1
    return 1 if x * x + y * y <= 1 else 0


def main() -> None:
    partitions = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 2
    spark = SparkSession.builder.appName("PythonPi").getOrCreate()
    if "--sleep" in sys.argv:
        seconds = float(sys.argv[sys.argv.index("--sleep") + 1])
        print(f"sleeping {seconds}s before computing", flush=True)
        time.sleep(seconds)
    samples = 100_000 * partitions
    count = spark.sparkContext.parallelize(range(samples), partitions).map(inside).reduce(add)
    print(f"Pi is roughly {4.0 * count / samples:.4f} (application {spark.sparkContext.applicationId})")
    spark.stop()
    if "--fail" in sys.argv:
        raise RuntimeError("failing on purpose (--fail)")


if __name__ == "__main__":
    main()
