# Singscope: `make run` serves the platform, `make test` runs every test (Python 3.11 and make; node >= 18.18 + npm for the browser code's unit tests and `make lint`).
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
INSTALLED = $(VENV)/.installed
export PYTHONPATH := $(CURDIR)/platform:$(CURDIR)

.PHONY: run test e2e bench lint install clean-var vendor

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Singscope needs Python 3.11 (found %s)" % sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)

# Re-installs when pyproject.toml changes. torch is pinned to the CPU build (==2.13.0).
$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet ".[dev,e2e]"
	# warm librosa's numba cache once, so the first detection does not pay the JIT compile
	$(BIN)/python -c "import numpy as np, librosa; librosa.feature.melspectrogram(y=np.zeros(16000, dtype=np.float32), sr=16000, n_mels=80, hop_length=160)"
	touch $@

install: $(INSTALLED)

run: $(INSTALLED)
	$(BIN)/python scripts/run_dev.py

test: $(INSTALLED)
	@echo "database: $${DATABASE_URL:-embedded SQLite (var/test)}   broker: $${CELERY_BROKER_URL:-embedded filesystem:// (var/test/broker)}"
	$(BIN)/python -m pytest $(PYTEST_ARGS)

e2e: $(INSTALLED)
	$(BIN)/python -m pytest tests/e2e $(PYTEST_ARGS)

bench: $(INSTALLED)
	$(BIN)/python benchmarks/run_all.py

# The browser code's linter (ESLint 9, eslint.config.js) needs node >= 18.18 and npm; `npm ci` installs
# the locked devDependencies again when package-lock.json is newer than node_modules.
node_modules/.package-lock.json: package-lock.json package.json
	@command -v npm >/dev/null || { echo "make lint needs node >= 18.18 and npm (Debian: apt-get install nodejs npm)"; exit 1; }
	npm ci --no-audit --no-fund
	touch $@

lint: $(INSTALLED) node_modules/.package-lock.json
	$(BIN)/ruff check .
	npx --no-install eslint static/js tests/js

clean-var:
	rm -rf var/test
