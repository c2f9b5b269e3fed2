"""The lifecycle tests' driver program for Flink: ``flink_script.py MESSAGE SECONDS EXIT_CODE``.

Runs one tiny batch job first (so the operator reports the job RUNNING), then says something,
waits and exits with the code asked for, like ``script.py`` does for the other engines.
"""

import sys
import time

from pyflink.table import EnvironmentSettings, TableEnvironment

message, seconds, code = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
tables = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
with tables.execute_sql("SELECT 1").collect() as rows:
    assert [row[0] for row in rows] == [1]
print(f"script says: {message}", flush=True)
time.sleep(seconds)
if code:
    print(f"script fails on purpose with exit code {code}", file=sys.stderr, flush=True)
sys.exit(code)
