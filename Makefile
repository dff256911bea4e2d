# One entry point. `make demo` and `make test` each create .venv and install first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: all install demo serve console test test-pg lint fmt schemas pg browser bench clean

all: lint test

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	rm -rf demo
	$(BIN)/ledger demo --store sqlite:///demo/ledger.db --register examples/register.toml

# The HTTP service and the DPO's console on the demo store (`make demo` first): a
# token per role in demo/<role>.token, then `ledger serve` on 127.0.0.1:$(PORT) until Ctrl-C.
PORT ?= 8080
DEMO_STORE := sqlite:///demo/ledger.db
serve console: $(STAMP)
	test -f demo/ledger.db || $(MAKE) demo
	for role in service dpo auditor; do test -s demo/$$role.token || \
	  $(BIN)/ledger token create --store $(DEMO_STORE) --name demo-$$role --role $$role --json \
	  | $(BIN)/python -c 'import json, sys; print(json.load(sys.stdin)["token"])' > demo/$$role.token \
	  || exit 1; done
	@echo "tokens: demo/service.token demo/dpo.token demo/auditor.token"
	@echo "the DPO's console: http://127.0.0.1:$(PORT)/ui/  (sign in with the DPO token: $$(cat demo/dpo.token))"
	$(BIN)/ledger serve --store $(DEMO_STORE) --port $(PORT)

test: $(STAMP) browser
	$(BIN)/python -m pytest $(ARGS)

# Debian's Chromium and ChromeDriver for the browser tests (best effort: needs root and apt).
browser:
	@{ command -v chromium && command -v chromedriver; } >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null 2>&1; } || \
	  echo "chromium or chromium-driver not installed: the browser tests will be skipped"

# The whole suite with PostgreSQL required (what .ci/run does).
test-pg: $(STAMP)
	LEDGER_REQUIRE_POSTGRES=1 LEDGER_TEST_POSTGRES_URL=$(PG_URL) $(BIN)/python -m pytest $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy schemas ledger projections bench
	$(BIN)/lint-imports
	$(BIN)/python -m schemas.export --check

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

schemas: $(STAMP)
	$(BIN)/python -m schemas.export

# Start the machine's PostgreSQL cluster if it is not running.
pg:
	pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && exit 0; sleep 1; done; exit 1

bench: $(STAMP)
	$(BIN)/python bench/append.py

clean:
	rm -rf $(VENV) demo .pytest_cache .mypy_cache .ruff_cache build *.egg-info
