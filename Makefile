# The two commands of the README. Each sets up everything it needs from a fresh clone:
# Debian packages and the API server (built once per machine into ~/.cache/moka), a virtualenv.
#   make demo   an example DAG on the embedded local Moka
#   make test   lint, type checks, unit and integration tests (also on the lowest supported Airflow)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
FLOOR_VENV := .venv-floor
# The lowest Airflow this package supports (keep in step with pyproject.toml). Airflow 3.2.0 did not
# yet cap FastAPI (later releases require <0.137; 0.163 breaks its execution API), so cap it here too.
AIRFLOW_FLOOR := 3.2.0
FLOOR_PINS := "apache-airflow==$(AIRFLOW_FLOOR)" "fastapi[standard-no-fastapi-cloud-cli]<0.137"
DEMO_DIR ?= $(HOME)/.moka/demo
SHARED ?= $(abspath ../shared)
BIN := $(VENV)/bin

.PHONY: setup deployment-setup demo ui test lint unit integration test-floor dist-check clean

$(BIN)/moka: pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] >= (3, 11), "Python 3.11+ is needed"'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[local,test]'
	touch $@

setup: $(BIN)/moka
	$(BIN)/moka local install --engine spark --engine flink --engine ray

demo: setup
	@set -e; \
	$(BIN)/moka local up --dir $(DEMO_DIR); \
	trap '$(BIN)/moka local down --dir $(DEMO_DIR)' EXIT; \
	eval "$$($(BIN)/moka local env --dir $(DEMO_DIR))"; \
	export AIRFLOW_HOME=$(CURDIR)/.airflow AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/dags_examples \
	       AIRFLOW__CORE__LOAD_EXAMPLES=False MOKA_SHARED_DIR=$(SHARED); \
	$(BIN)/airflow db migrate > /dev/null; \
	$(BIN)/airflow dags test moka_spark_pi 2>&1 \
	  | grep -E '(created|adopting) SparkApplication|moka/[a-z0-9-]+: [A-Z_]+ |Pi is roughly|^SparkApplication |^spark application id|^link |DagRun Finished|Error' \
	  | sed -E 's/^[0-9TZ:.-]+ \[[a-z ]+\] //; s/ +\[(airflow|moka_provider)[^]]*\].*$$//'

# What the real-deployment tests and `make ui` need besides the virtualenv (whose test extra has
# the PostgreSQL drivers and Playwright): Debian's PostgreSQL server and chromium, installed only
# when missing, from the machine's own apt sources; and PostgreSQL's JDBC driver, for the
# JDBC drop-in's job in the Monarch operators' test (which the floor's tests run too).
deployment-setup: $(BIN)/moka
	@dpkg -s postgresql libpostgresql-jdbc-java >/dev/null 2>&1 && command -v chromium >/dev/null || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	    postgresql libpostgresql-jdbc-java chromium; }

# The example DAGs in Airflow as it runs in production (PostgreSQL, API server with the UI,
# scheduler, dag-processor, triggerer) on `moka local`, until Ctrl-C.
UI_DIR ?= $(HOME)/.moka/ui
ui: setup deployment-setup
	@set -e; \
	$(BIN)/moka local up --dir $(UI_DIR); \
	trap '$(BIN)/moka local down --dir $(UI_DIR)' EXIT; trap 'exit 130' INT TERM; \
	eval "$$($(BIN)/moka local env --dir $(UI_DIR))"; \
	MOKA_SHARED_DIR=$(SHARED) $(BIN)/python -m tests.deployment.stack

lint: $(BIN)/moka
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: $(BIN)/moka
	MOKA_SHARED_DIR=$(SHARED) $(BIN)/pytest tests/unit tests/migration -q

integration: setup deployment-setup
	MOKA_SHARED_DIR=$(SHARED) $(BIN)/pytest tests/integration tests/deployment -q

# The provider's own tests on the lowest supported Airflow: registration, hooks, a DAG run.
test-floor: setup deployment-setup
	test -d $(FLOOR_VENV) || $(PYTHON) -m venv $(FLOOR_VENV)
	$(FLOOR_VENV)/bin/pip install --quiet --upgrade pip
	$(FLOOR_VENV)/bin/pip install --quiet $(FLOOR_PINS) -e '.[local,test]'
	$(FLOOR_VENV)/bin/python -c 'import airflow; assert airflow.__version__ == "$(AIRFLOW_FLOOR)", airflow.__version__'
	MOKA_SHARED_DIR=$(SHARED) $(FLOOR_VENV)/bin/pytest -q tests/unit \
	  tests/integration/test_airflow.py tests/integration/test_hook_objects.py tests/integration/test_access.py \
	  tests/integration/test_monarch_operators.py \
	  "tests/integration/test_job_operators.py::test_jobs_succeed_and_fail_in_the_worker_and_deferred[spark]" \
	  "tests/migration/test_corpus.py::test_migrated_files_load_on_airflow_3_each_alone_as_moka_migrate_check_loads_them"

# The wheel and sdist as users get them: built in a temporary directory, checked by twine, installed
# into fresh virtualenvs with the current and the floor Airflow, where the provider must register and
# the example DAGs parse (scripts/check_distribution.py says what it proves). About 1.5 min.
DIST_CHECK = $(BIN)/python scripts/check_distribution.py --floor $(FLOOR_PINS)
dist-check: $(BIN)/moka
	$(DIST_CHECK)

# Two pytest-xdist workers, each with its own `moka local`: one runs the real-deployment tests (one
# unit of work, mostly waiting on jobs; see tests/conftest.py) while the other runs the rest.
# --durations: the end of every run (CI's included) lists the 20 slowest tests.
# Then the floor's tests, which run in one process, with the distribution check beside them on the
# other core (at the lowest CPU priority); its output is printed after theirs, and either failing
# fails the target.
test: setup deployment-setup lint
	MOKA_SHARED_DIR=$(SHARED) $(BIN)/pytest tests -q -n 2 --durations=20
	@log=$$(mktemp); nice -n 19 $(DIST_CHECK) > $$log 2>&1 & check=$$!; \
	$(MAKE) test-floor; status=$$?; \
	wait $$check || status=1; echo "distribution check (run beside the floor's tests):"; cat $$log; rm -f $$log; \
	exit $$status

clean:
	rm -rf $(VENV) $(FLOOR_VENV) .airflow .mypy_cache .ruff_cache .pytest_cache *.egg-info
