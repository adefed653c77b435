# Sealtrail: `make run` to serve, `make test` to check everything, `make bench` for figures.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EVIDENCE_HOME ?= ./var
PORT ?= 8000
export EVIDENCE_HOME PORT

# Debian packages the product and its tests use (PDF tools, CJK seal font, QR decoding,
# Chromium for the browser tests of the signer and verify pages; jq and curl for the README;
# a Redis server for the shared rate-limit counts' tests).
APT_PACKAGES := poppler-utils libnss3-tools fonts-arphic-uming zbar-tools chromium chromium-driver jq curl redis-server
APT_STAMP := $(VENV)/.apt-installed

.PHONY: run test lint typecheck pytest bench contracts deps dist translations clean-instance help

help:
	@echo "make run    - install what is missing, initialise \$$EVIDENCE_HOME, serve on 127.0.0.1:\$$PORT"
	@echo "make test   - install what is missing, run ruff, mypy and the whole test suite"
	@echo "make bench  - run the benchmarks and print measured figures"
	@echo "make dist   - build the offline verifier's wheel into dist/ (pip install it anywhere)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip wheel

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $@

# `npm install` honours package-lock.json (exact versions) and, unlike `npm ci`, tolerates the
# platform-specific optional packages of anvil that the registry does not serve here.
node_modules/.installed: package.json package-lock.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

$(APT_STAMP): Makefile | $(BIN)/python
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
	touch $@

# The console's compiled catalogs (committed too, so a checkout serves without this step).
MO_FILES := $(patsubst %.po,%.mo,$(wildcard web/translations/*/LC_MESSAGES/messages.po))

web/translations/%/LC_MESSAGES/messages.mo: web/translations/%/LC_MESSAGES/messages.po | $(VENV)/.installed
	$(BIN)/pybabel compile -d web/translations -l $* --use-fuzzy --statistics

deps: $(VENV)/.installed node_modules/.installed $(APT_STAMP) $(MO_FILES)

# After changing a user-facing string: extract it, merge it into both catalogs (translate the
# new entries in web/translations/*/LC_MESSAGES/messages.po), compile.
translations: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _ -k gettext -o web/translations/messages.pot \
	  --no-location --sort-output --project Sealtrail --copyright-holder Sealtrail .
	$(BIN)/pybabel update -i web/translations/messages.pot -d web/translations \
	  --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -d web/translations --statistics

run: deps
	$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

lint: deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: deps
	$(BIN)/mypy .

pytest: deps
	$(BIN)/pytest -n 2 -q

test: lint typecheck pytest

bench: deps
	$(BIN)/python -m bench

# The wheel of the offline verifier (`sealtrail-verify`): see [project] in pyproject.toml.
dist: | $(BIN)/python
	rm -rf dist
	$(BIN)/pip wheel --quiet --no-deps --wheel-dir dist .
	@ls -l dist/*.whl

contracts: node_modules/.installed
	node contracts_sol/build.mjs

clean-instance:
	rm -rf $(EVIDENCE_HOME)
