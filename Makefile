# Everyday verbs. `make start-api` and `make test` set up everything they need on a fresh machine.
# .venv is built with the Lambda runtime's python3.13 where the machine has one (the finder make build
# uses), else with python3; `make install PYTHON=...` chooses another.
PYTHON313_DIR := $(shell layers/find-python313.sh 2>/dev/null)
PYTHON ?= $(if $(PYTHON313_DIR),$(PYTHON313_DIR)/python3.13,python3)
# The interpreter's version and base installation, e.g. python3.13.0_usr: the stamp below is named after
# it, so that a .venv made with another Python is made again.
PYTHON_ID_CODE := import sys; print("python%d.%d.%d" % sys.version_info[:3] + sys.base_prefix.replace("/", "_"))
PYTHON_ID := $(shell $(PYTHON) -c '$(PYTHON_ID_CODE)' 2>/dev/null)
VENV := .venv
BIN := $(VENV)/bin
VENV_STAMP := $(VENV)/.installed-$(PYTHON_ID)

SAM_VENV := .venv-sam
SAM_PYTHON ?= python3
SAM_CLI_VERSION := 1.170.0
SAM := SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam
ENV ?= dev

.PHONY: install test lint format start-api bench openapi events docs-check clean distclean sam-install build deploy smoke delete secrets indexes migrate-seed account logs sync

install: $(VENV_STAMP)

$(VENV_STAMP): requirements.txt requirements-dev.txt
	@test -n "$(PYTHON_ID)" || { echo "make install: $(PYTHON) does not run" >&2; exit 1; }
	@case "$(PYTHON_ID)" in python3.13.*) ;; *) echo "make install: .venv uses $(PYTHON), not python3.13: tests run on another Python than Lambda's";; esac
	@if [ "$$($(BIN)/python -c '$(PYTHON_ID_CODE)' 2>/dev/null)" != "$(PYTHON_ID)" ]; then \
		echo "rm -rf $(VENV) && $(PYTHON) -m venv $(VENV)" && rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); fi
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed*
	touch $@

# sam-install too: tests/test_sam_cli.py reads the template with SAM CLI's own providers (skipped without
# .venv-sam, failed where CI=true).
test: install sam-install
	$(BIN)/python -m pytest

lint: install sam-install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(SAM) validate --lint

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The tool's own options go in ARGS (make would take them for its own):
# make start-api ARGS="--parameter-overrides AuthorizerCacheSeconds=0 --port 3001"
start-api: install
	$(BIN)/python -m local_api $(ARGS)

# The local API's start time, per-request overhead and throughput, and each function's cold
# start and first invoke on python3.13 against the seed's FastAPI monolith (prints numbers; not a test).
bench: install
	$(BIN)/python -m benchmarks.local_api
	$(BIN)/python -m benchmarks.cold_start

# The OpenAPI document, generated from the functions' routes and models (tests check it is current).
openapi: install
	$(BIN)/python -m contract.openapi

# events/*.json (for tests and `sam local invoke -e`), generated from the template and the OpenAPI
# document by the local API's event builder (tests check they are current).
events: openapi
	$(BIN)/python -m contract.fixtures

# The MongoDB indexes (shared/data/indexes.py) on the database at MONGODB_URI (MONGODB_DB_NAME, default
# emergent_db): for a database no stack deploys to, such as a developer's Atlas cluster. Idempotent. A
# deploy creates them itself (the MongoIndexes custom resource); the local API's embedded store at start.
indexes: install
	$(BIN)/python -m shared.data.indexes

# Converts, in place, a database the seed's FastAPI app wrote (shared/data/migrate_seed.py) at
# MONGODB_URI (MONGODB_DB_NAME, default emergent_db), then creates the indexes. Idempotent and
# resumable; exit status 3 when some seed documents had to be left (it lists them).
migrate-seed: install
	$(BIN)/python -m shared.data.migrate_seed

# An operator's actions on one account of the database at MONGODB_URI (docs/operations.md, Accounts):
# make account ARGS="deactivate ada@example.com" (also reactivate, end-sessions, sessions).
account: install
	$(BIN)/python -m shared.accounts.admin $(ARGS)

# Swagger UI at /api/docs, rendered in headless Chromium, shows every documented operation and its
# Authorize works; screenshot in out/docs.png. Needs a Chromium binary (Debian: apt-get install
# chromium; .ci/run installs it). make test runs the same check as a test, skipped without Chromium
# (failed instead where CI=true).
docs-check: install
	$(BIN)/python -m tests.integration.docs_check

# What make, the tests and the tools write: the venv, the build, caches, the benchmarks' installs (.bench)
# and the local API's data (.local: its store and JWT secret). distclean also removes SAM CLI's venv
# (about 340 MB, slow to install again).
clean:
	rm -rf $(VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis out .bench .local

distclean: clean
	rm -rf $(SAM_VENV)

# aws-sam-cli pins its own pydantic, boto3 and Flask, so it lives in its own venv, never in .venv.
sam-install: $(SAM_VENV)/.installed-$(SAM_CLI_VERSION)

$(SAM_VENV)/.installed-$(SAM_CLI_VERSION):
	$(SAM_PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet aws-sam-cli==$(SAM_CLI_VERSION)
	touch $@

# sam build without containers needs the runtime's python3.13 first on PATH (layers/find-python313.sh).
build: sam-install
	@py313="$$(layers/find-python313.sh)" && echo "python3.13: $$py313" && PATH="$$py313:$$PATH" $(SAM) build

# OVERRIDES adds template parameters to ENV's parameter_overrides of samconfig.toml (sam deploy would take a
# --parameter-overrides of its own instead of them): make deploy ENV=prod OVERRIDES=DeploymentAlarms=off
# After the deploy, the smoke command for the stack's URL is printed (with SAM CLI's venv, whose boto3 reads
# the stack's output; a failure to read it is said and does not fail the deploy).
deploy: build
	$(SAM) deploy --config-env $(ENV)$(if $(OVERRIDES), --parameter-overrides $(PARAMETER_OVERRIDES) $(OVERRIDES))
	@$(SAM_VENV)/bin/python -m contract.smoke --print-command --env $(ENV) || true

# A short journey through the API at URL with a throwaway account it deletes at the end (contract/smoke.py;
# README, Smoke test): make smoke URL=https://... [ORIGIN="https://app.example.com ..."] preflights the
# origins given; without URL, ENV's stack gives its ApiUrl output and CorsAllowOrigin parameter (boto3).
smoke: install
	$(BIN)/python -m contract.smoke $(if $(URL),--url $(URL),--env $(ENV))$(if $(ORIGIN), $(foreach origin,$(ORIGIN),--origin $(origin)))$(if $(ARGS), $(ARGS))

# Deletes ENV's stack (sam delete asks first). What stays: docs/operations.md, Teardown.
delete: sam-install
	$(SAM) delete --config-env $(ENV)

# Creates or checks what ENV's first deploy needs outside the stack (the MongoDB URI secret, API Gateway's
# CloudWatch Logs role of the account) and prints the ARNs for samconfig.toml. The URI is read from
# MONGODB_URI or asked for, never taken as an argument. ARGS: python -m local_api.deploy_prerequisites --help.
secrets: install
	$(BIN)/python -m local_api.deploy_prerequisites --env $(ENV) $(ARGS)

# The stack name of ENV, as samconfig.toml gives it to sam deploy, and its deploy's parameter_overrides.
STACK_NAME = $(shell sed -n '/^\[$(ENV)\.global\.parameters\]/,/^\[/s/^stack_name *= *"\(.*\)"/\1/p' samconfig.toml)
PARAMETER_OVERRIDES = $(shell sed -n '/^\[$(ENV)\.deploy\.parameters\]/,/^\[/s/^parameter_overrides *= *"\(.*\)"/\1/p' samconfig.toml)

# One function's logs, followed: make logs FN=LoginFunction [ENV=prod] (FN is the template's logical id).
# All functions share one log group; sam logs prints each line after its log stream, which Lambda names
# after the function (<stack>-<FN>-<suffix>), so grep keeps FN's lines.
logs: sam-install
	@test -n "$(FN)" || { echo "make logs: name the function, e.g. make logs FN=LoginFunction ENV=$(ENV)" >&2; exit 1; }
	@test -n "$(STACK_NAME)" || { echo "make logs: samconfig.toml has no stack_name for ENV=$(ENV)" >&2; exit 1; }
	$(SAM) logs --stack-name $(STACK_NAME) -n $(FN) --tail | grep --line-buffered -F -- "-$(FN)-"

# Code changes go straight to the dev stack as files are saved (sam sync skips CloudFormation for code
# and the CodeDeploy canary: never for prod).
sync: sam-install
	@if [ "$(ENV)" != "dev" ]; then echo "make sync: dev only (ENV=$(ENV)); deploy $(ENV) with make deploy ENV=$(ENV)" >&2; exit 1; fi
	@py313="$$(layers/find-python313.sh)" && PATH="$$py313:$$PATH" $(SAM) sync --watch --config-env dev
