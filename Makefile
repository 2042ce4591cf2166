PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-all lint typecheck bench clean browser screenshots vendor-assets

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/lq demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck browser
	$(BIN)/pytest -m "not slow" $(PYTEST_ARGS)

test-all: lint typecheck browser
	$(BIN)/pytest $(PYTEST_ARGS)

# The dashboard's browser tests drive Debian's Chromium: installed here where this user can
# (root with apt); elsewhere those tests skip and say why.
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian's chromium for the dashboard's browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
	    >/dev/null) || echo "chromium could not be installed: the browser tests will skip"; \
	else echo "no $(CHROMIUM): the dashboard's browser tests will skip"; fi

# The screenshots in docs/images/dashboard/, taken by the browser tests.
screenshots: $(STAMP) browser
	LQ_DOCS_SCREENSHOTS=1 $(BIN)/pytest tests/dashboard/test_browser.py $(PYTEST_ARGS)

# The dashboard's front-end files from the npm registry, checked against their SHA-256.
VENDOR := laravel_queue/dashboard/static/vendor
vendor-assets:
	rm -rf .vendor && mkdir -p .vendor
	cd .vendor && npm pack --silent htmx.org@2.0.11 uplot@1.6.32 >/dev/null
	cd .vendor && sha256sum -c ../$(VENDOR)/SHA256SUMS
	tar -xzf .vendor/htmx.org-2.0.11.tgz -C .vendor
	cp .vendor/package/dist/htmx.min.js $(VENDOR)/
	cp .vendor/package/LICENSE $(VENDOR)/htmx.LICENSE
	rm -rf .vendor/package && tar -xzf .vendor/uplot-1.6.32.tgz -C .vendor
	cp .vendor/package/dist/uPlot.iife.min.js .vendor/package/dist/uPlot.min.css $(VENDOR)/
	cp .vendor/package/LICENSE $(VENDOR)/uPlot.LICENSE
	rm -rf .vendor

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .lq build *.egg-info
