"""Sum squares with Ray tasks: the example workload of a Moka RayJob.

Usage: ray_job.py [TASKS] [--fail] [--sleep SECONDS]
(--fail raises after computing, to show a failing job; --sleep keeps the tasks running a while first)
"""

import sys
import time

import ray


@ray.remote
def square(x: int, seconds: float) -> int:
    time.sleep(seconds)
    return x * x


def main() -> None:
    tasks = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 4
    seconds = float(sys.argv[sys.argv.index("--sleep") + 1]) if "--sleep" in sys.argv else 0.0
    ray.init()
    if seconds:
        print(f"tasks sleep {seconds}s before computing", flush=True)
    total = sum(ray.get([square.remote(i, seconds) for i in range(tasks)]))
    print(f"sum of squares below {tasks} is {total} (computed by {tasks} Ray tasks)", flush=True)
    if "--fail" in sys.argv:
        raise RuntimeError("failing on purpose (--fail)")


if __name__ == "__main__":
    main()
