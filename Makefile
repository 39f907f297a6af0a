# The two commands of the README: `make run` starts everything, `make test` runs every test.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: run test install system services migrate lint bench clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

install: $(BIN)/.installed  ## Python packages into .venv

system:  ## Debian packages the tests use (Dovecot, mbsync, Chromium) and the database servers
	bash infra/system.sh

services:  ## start PostgreSQL and MariaDB if they are down
	bash infra/services.sh

migrate: install  ## apply SQL migrations to the run databases
	$(BIN)/python -m infra.migrate

run: install services migrate  ## start the whole platform locally; prints every URL
	$(BIN)/python -m local run

test: install  ## the whole test suite
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/flake8 .
	$(BIN)/cfn-lint template.yaml

bench: install
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) local/.state
