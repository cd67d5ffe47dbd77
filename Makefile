# The PRM's two commands: `make dev` runs everything locally, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
LOCK := requirements/dev.lock
STAMP := $(VENV)/.installed-$(shell cksum < $(LOCK) | cut -d' ' -f1)
PIP_TOOLS := pip-tools==7.6.2

.PHONY: dev fresh test lint typecheck schemas chromium bench clean lock security security-lock

# Exactly the lock: every package, transitive ones included, by version and hash (requirements/README.md).
$(STAMP): $(LOCK)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --require-hashes -r $(LOCK)
	rm -f $(VENV)/.installed-*; touch $(STAMP)

venv: $(STAMP)

dev: $(STAMP)  ## start the whole PRM locally (data kept between runs)
	$(PY) -m infrastructure.local start $(ARGS)

fresh: $(STAMP)  ## start the whole PRM locally from fresh demo data
	$(PY) -m infrastructure.local start --fresh $(ARGS)

chromium:  ## Debian's Chromium for the browser tests (no browser download), and poppler's pdfinfo for the PDF test
	@missing=""; test -x /usr/bin/chromium || missing="chromium"; test -x /usr/bin/pdfinfo || missing="$$missing poppler-utils"; \
	test -z "$$missing" || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/cfn-lint template.yaml

typecheck: $(STAMP)
	$(PY) -m mypy shared contracts functions/onboarding/onboarding functions/approvals/approvals functions/deals/deals functions/mdf/mdf functions/training/training functions/tiers/tiers functions/rewards/rewards functions/content/content infrastructure tools

schemas: $(STAMP)  ## regenerate events/schemas and the template's schema resources from the pydantic contracts
	$(PY) -m tools.gen_schemas

test: $(STAMP) chromium lint typecheck security  ## install everything and run every test
	$(PY) -m tools.gen_schemas --check
	$(PY) benchmarks/cost.py --check
	$(PY) -m tools.lock --check
	$(PY) -m pytest -n 2 tests/unit tests/infra tests/integration
	$(PY) -m pytest tests/e2e tests/browser

# checkov in its own venv from its own hashed lock: its dependency tree conflicts with the project's pins.
CHECKOV_VENV := .venv-checkov
CHECKOV_LOCK := requirements/checkov.lock
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(shell cksum < $(CHECKOV_LOCK) | cut -d' ' -f1)
CHECKOV_TEMPLATE := .aws-sam/security/template.json

$(CHECKOV_STAMP): $(CHECKOV_LOCK)
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q --require-hashes --no-deps -r $(CHECKOV_LOCK)
	rm -f $(CHECKOV_VENV)/.installed-*; touch $(CHECKOV_STAMP)

# Scans the SAM-translated template (roles, stage, permissions included), offline: no Bridgecrew key, no downloads.
security: $(STAMP) $(CHECKOV_STAMP)  ## checkov on the template; any failed check fails (skips carry a reason inline)
	$(PY) -m tools.sam_translate --output $(CHECKOV_TEMPLATE)
	env -u BC_API_KEY -u PRISMA_API_URL $(CHECKOV_VENV)/bin/checkov --file $(CHECKOV_TEMPLATE) \
		--framework cloudformation --skip-download --compact --quiet

security-lock:  ## re-resolve requirements/checkov.in into its hashed lock, from PyPI only
	test -x .venv-lock/bin/pip-compile || ($(PYTHON) -m venv .venv-lock && .venv-lock/bin/pip install -q $(PIP_TOOLS))
	cd requirements && env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null ../.venv-lock/bin/pip-compile -q \
		--generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
		--index-url https://pypi.org/simple -o checkov.lock checkov.in

bench: $(STAMP)  ## performance figures, and the cost per operation (rewrites docs/cost.md)
	$(PY) benchmarks/cold_start.py
	$(PY) benchmarks/deal_registration.py --strict
	$(PY) benchmarks/mdf_ledger.py --strict
	$(PY) benchmarks/tier_evaluation.py --strict
	$(PY) benchmarks/rewards_ledger.py --strict
	$(PY) benchmarks/content_library.py --strict
	$(PY) benchmarks/training_import.py
	$(PY) benchmarks/cost.py

lock:  ## re-resolve requirements/*.in into the hashed lock, from PyPI only, then regenerate the layer's requirements
	test -x .venv-lock/bin/pip-compile || ($(PYTHON) -m venv .venv-lock && .venv-lock/bin/pip install -q $(PIP_TOOLS))
	cd requirements && env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null ../.venv-lock/bin/pip-compile -q \
		--generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
		--index-url https://pypi.org/simple $(LOCK_ARGS) -o dev.lock dev.in
	$(PYTHON) -m tools.lock

clean:
	rm -rf $(VENV) .venv-lock $(CHECKOV_VENV) .local .pytest_cache .mypy_cache .ruff_cache
