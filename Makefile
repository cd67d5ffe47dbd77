# The PRM's two commands: `make dev` runs everything locally, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.txt shared/requirements.txt | cksum | cut -d' ' -f1)

.PHONY: dev fresh test lint typecheck schemas chromium bench clean

$(STAMP): requirements-dev.txt shared/requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements-dev.txt
	rm -f $(VENV)/.installed-*; touch $(STAMP)

venv: $(STAMP)

dev: $(STAMP)  ## start the whole PRM locally (data kept between runs)
	$(PY) -m infrastructure.local start $(ARGS)

fresh: $(STAMP)  ## start the whole PRM locally from fresh demo data
	$(PY) -m infrastructure.local start --fresh $(ARGS)

chromium:  ## Debian's Chromium for the browser tests (no browser download)
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/cfn-lint template.yaml

typecheck: $(STAMP)
	$(PY) -m mypy shared functions/onboarding/onboarding functions/approvals/approvals functions/deals/deals functions/mdf/mdf infrastructure tools

schemas: $(STAMP)  ## regenerate events/schemas and the template's schema resources from the pydantic contracts
	$(PY) -m tools.gen_schemas

test: $(STAMP) chromium lint typecheck  ## install everything and run every test
	$(PY) -m tools.gen_schemas --check
	$(PY) -m pytest -n 2 tests/unit tests/infra tests/integration
	$(PY) -m pytest tests/e2e tests/browser

bench: $(STAMP)
	$(PY) benchmarks/cold_start.py
	$(PY) benchmarks/deal_registration.py --strict
	$(PY) benchmarks/mdf_ledger.py --strict

clean:
	rm -rf $(VENV) .local .pytest_cache .mypy_cache .ruff_cache
