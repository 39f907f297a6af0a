# The two commands of the README: `make run` starts everything, `make test` runs every test.
# Each installs what the machine lacks (Debian packages, database servers, venvs) before it starts.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAM_VENV := .venv-sam
CHECKOV_VENV := .venv-checkov
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: run test check install sam checkov system system-run services migrate lint bench clean

# localcloud (the local cloud, localcloud/) is installed editable without its dependencies: the requirement
# files above pin them, and pyproject.toml lists the same pins.
# uv (pinned in requirements-dev.txt) installs from the same pinned files as pip would, the same packages at the
# same versions, in seconds (13 s for .venv on this machine, its cache cold).
UV := $(BIN)/uv
$(BIN)/.installed: requirements.txt requirements-dev.txt localcloud/pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	test -x $(UV) || $(BIN)/pip install -q $$(grep '^uv==' requirements-dev.txt)
	$(UV) pip install -q --python $(BIN)/python -r requirements-dev.txt
	$(UV) pip install -q --python $(BIN)/python --no-deps -e ./localcloud
	touch $@

install: $(BIN)/.installed  ## Python packages into .venv, and localcloud (editable)

# aws-sam-cli pins boto3, jinja2, requests... differently from the project: it gets its own venv.
$(SAM_VENV)/.installed: requirements-sam.txt | $(BIN)/.installed
	test -x $(SAM_VENV)/bin/python || $(PY) -m venv $(SAM_VENV)
	$(UV) pip install -q --python $(SAM_VENV)/bin/python -r requirements-sam.txt
	touch $@

sam: $(SAM_VENV)/.installed  ## the SAM CLI into .venv-sam (sam build / validate; the deploy tests use it)

# checkov (the IaC scanner) pins boto3, networkx... differently from the project too: its own venv.
$(CHECKOV_VENV)/.installed: requirements-checkov.txt | $(BIN)/.installed
	test -x $(CHECKOV_VENV)/bin/python || $(PY) -m venv $(CHECKOV_VENV)
	$(UV) pip install -q --python $(CHECKOV_VENV)/bin/python -r requirements-checkov.txt
	touch $@

checkov: $(CHECKOV_VENV)/.installed  ## checkov into .venv-checkov (make lint and tests/foundation/test_production_template.py)

system:  ## Debian packages the tests use (Dovecot, mbsync, Chromium) and the database servers
	bash infra/system.sh

system-run:  ## only the database servers, for make run
	bash infra/system.sh run

services:  ## start PostgreSQL and MariaDB if they are down
	bash infra/services.sh

migrate: install  ## apply SQL migrations to the run databases
	$(BIN)/python -m infra.migrate

run: install system-run services migrate  ## start the whole platform locally; prints every URL
	$(BIN)/python -m tools.run_local run

# Four workers (pytest-xdist) on two cores, each on its own pair of databases: at -n 2 the suite waited more than it
# computed (about 42 % of the CPU busy); at -n 4, with the long tests handed out first (tests/long_first.py), both cores
# are busy nearly all the run. Not more: at -n 5 every worker starts its own clouds and Lambda workers again, and the
# run took more CPU (739 CPU-s against 537-659) and longer (479 s against 383-450 s). PostgreSQL's connections stay
# under 70 of its 100 (each worker's own databases and clouds; the sign-in bursts take turns).
# The SAM CLI's and checkov's venvs are installed side by side (about 5 s each on one core).
# PYTHONDONTWRITEBYTECODE=1 (set on this machine kind) makes every Python process compile every module it imports,
# again: the suite starts hundreds of them (pytest workers, clouds, fetch processes, tools). With the bytecode cache
# on, a module is compiled once (.pyc files land in __pycache__ folders, which git ignores): 20 s less in a run.
test: install system services  ## the whole test suite
	$(MAKE) --no-print-directory -j2 sam checkov
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest -q -n 4

# The database and AWS URLs point at a closed port: a selected test that reaches for a server fails at once.
NO_SERVER := postgresql://postgres@127.0.0.1:1/no_server_in_make_check
check: install  ## the server-free tests (parsing, validation, templates, windows, phones, MIME): the edit-test loop
	TEST_DATABASE_URL=$(NO_SERVER) DATABASE_URL=$(NO_SERVER) TEST_MYSQL_URL=mysql://root@127.0.0.1:1/none \
	MYSQL_URL=mysql://root@127.0.0.1:1/none AWS_ENDPOINT_URL=http://127.0.0.1:1 $(BIN)/python -m pytest -q --quick

lint: install sam checkov
	$(BIN)/flake8 .
	$(BIN)/cfn-lint template.yaml
	SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 $(SAM_VENV)/bin/sam validate --lint --template template.yaml
	$(CHECKOV_VENV)/bin/checkov --file template.yaml --framework cloudformation --compact --quiet --skip-download
	$(BIN)/python -m tools.deploy.connection_budget

bench: install
	@failed=""; for b in bench/[!_]*.py; do echo "== $$b"; $(BIN)/python $$b || failed="$$failed $$b"; done; \
	if [ -n "$$failed" ]; then echo "benches that missed a target or failed:$$failed"; exit 1; fi

clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .localcloud .aws-sam
