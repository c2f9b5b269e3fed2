"""Count words with PyFlink: the example workload of a Moka FlinkDeployment or FlinkSessionJob.

Usage: pyflink_wordcount.py [--fail] [--sleep SECONDS]
(--fail raises after counting, to show a failing job; --sleep keeps it running a while first)

The runtime mode and parallelism come from the cluster's configuration (``execution.runtime-mode``
and ``parallelism.default``, which the FlinkDeployment's ``flinkConfiguration`` and
``job.parallelism`` set), so the same file runs as a batch or a streaming job.
"""

import sys
import time

from pyflink.datastream import StreamExecutionEnvironment
from pyflink.table import StreamTableEnvironment

LINES = [
    "to be or not to be",
    "that is the question",
    "whether tis nobler in the mind to suffer",
    "the slings and arrows of outrageous fortune",
]


def main() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    tables = StreamTableEnvironment.create(env)
    mode = tables.get_config().get("execution.runtime-mode", "STREAMING")
    print(f"word count: runtime mode {mode}, parallelism {env.get_parallelism()}", flush=True)
    if "--sleep" in sys.argv:
        seconds = float(sys.argv[sys.argv.index("--sleep") + 1])
        print(f"sleeping {seconds}s before counting", flush=True)
        time.sleep(seconds)
    words = tables.from_elements([(word,) for line in LINES for word in line.split()], ["word"])
    tables.create_temporary_view("words", words)
    result = tables.execute_sql("SELECT word, COUNT(*) AS n FROM words GROUP BY word")
    with result.collect() as rows:
        counts = {row[0]: row[1] for row in rows}
    for word, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        print(f"{word}: {count}")
    print(f"word count done: {len(counts)} distinct words", flush=True)
    if "--fail" in sys.argv:
        raise RuntimeError("failing on purpose (--fail)")


if __name__ == "__main__":
    main()
