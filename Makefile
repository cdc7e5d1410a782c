# Quick start: `make plan` and `make test`. Both create .venv and install what they need.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STACK  ?= dev
STAMP  := $(VENV)/.installed

.PHONY: plan plan-all test bench docs clean

$(STAMP): requirements.txt requirements-dev.txt policies/requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

## Offline plan of a stack (default dev) with the policy gate: no cloud credentials needed.
plan: $(STAMP)
	$(PY) -m tools.plan --stack $(STACK)

## Offline plan of every stack file.
plan-all: $(STAMP)
	@for f in Pulumi.*.yaml; do s=$${f#Pulumi.}; s=$${s%.yaml}; $(PY) -m tools.plan --stack $$s --quiet || exit $$?; done

## The test suite (pytest, Pulumi mocks, the policy pack over gRPC).
test: $(STAMP)
	$(PY) -m pytest

## Benchmarks: plan wall time and peak RSS per stack; policy pack timings.
bench: $(STAMP)
	$(PY) -m tools.bench
	$(PY) -m tools.bench_policy

## Regenerate the generated README sections (config reference, policy catalogue).
docs: $(STAMP)
	$(PY) -m tools.config_doc --write
	$(PY) -m policies.catalogue --write

clean:
	rm -rf $(VENV) .pytest_cache
