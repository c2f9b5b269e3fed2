"""A driver program for lifecycle tests: says something, waits, exits with the code asked for.

Run by spark-submit like any Python application (no SparkSession: the tests are about the job's
lifecycle, not about Spark). ``script.py MESSAGE SECONDS EXIT_CODE``.
"""

import sys
import time

message, seconds, code = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
print(f"script says: {message}", flush=True)
time.sleep(seconds)
if code:
    print(f"script fails on purpose with exit code {code}", file=sys.stderr, flush=True)
# spark-submit copies a Python driver's output from a thread that a quick exit can cut short.
time.sleep(0.5)
sys.exit(code)
