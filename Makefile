# Set-up and everyday commands. `make site` and `make test` are all a fresh machine needs.
# The first of these whose email package cannot be made to write header lines from an encoded word (CVE-2024-6923,
# fixed in 3.11.10 / 3.12.5 / 3.13.0 and by some distributions' backports): tried, not guessed from the version.
# The tool never lets that package fold a header (notify/headers.py); this is a second line. PYTHON=… overrides.
SAFE_EMAIL := import email.policy as p, sys; from email.message import EmailMessage as M; \
	from email.headerregistry import Address as A; m = M(policy=p.SMTP); \
	m["To"] = A("=?utf-8?q?a=0D=0AX-Injected=3A_1?= " + "x" * 70, addr_spec="a@example.org"); \
	sys.exit(sys.version_info < (3, 11) or b"X-Injected" in m.as_bytes().replace(b"X-Injected=3A", b""))
PYTHON ?= $(or $(shell for p in python3 python3.13 python3.12 python3.11 /usr/bin/python3 \
	$$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[1-9]*/bin/python3 2>/dev/null | sort -rV); do \
	$$p -c '$(SAFE_EMAIL)' >/dev/null 2>&1 && { echo $$p; break; }; done),python3)
VENV   := .venv
BIN    := $(VENV)/bin
TEST_WORKERS ?= auto
# the tests' temp folders (git repositories, sites, a venv: many small files written, synced and deleted) in memory
# where the system has a tmpfs at /dev/shm, as a disk costs minutes of fsync and discard; TEST_TMPDIR=… to choose
TEST_TMPDIR ?= $(shell [ -d /dev/shm ] && [ -w /dev/shm ] && echo /dev/shm)
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: site test lint serve bench demo check dist clean distclean chromium postgresql libreoffice bytecode docs

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed (set PYTHON=python3.x)"; exit 1; }
	@$(PYTHON) -c '$(SAFE_EMAIL)' || echo "note: $(PYTHON) has CVE-2024-6923 (3.11.10, 3.12.5 or 3.13.0 have the fix);" \
		"the tool writes its mail headers itself, so this is not a hole, but a newer Python is better"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $@

# the package's compiled modules, as pip writes them for an installed package (an editable install has none, and
# PYTHONDONTWRITEBYTECODE=1 would have every `policy` run compile them again)
bytecode: $(VENV)/.installed
	@$(BIN)/python -m compileall -q scripts/policy_site >/dev/null

## site: create .venv, install, build site/ from this repository's git history
site: $(VENV)/.installed bytecode
	$(BIN)/policy build

## check: validate policy/ (what CI runs on pull requests)
check: $(VENV)/.installed bytecode
	$(BIN)/policy check

## serve: live preview on http://127.0.0.1:8000/ (unpublished edits show as a draft)
serve: $(VENV)/.installed bytecode
	$(BIN)/policy serve

## docs: this project's own documentation (README + docs/) as a site in .cache/docs-site, MkDocs + Material, strict
docs: $(VENV)/.installed
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build -q -f mkdocs.docs.yml

## chromium: Debian's headless Chromium for the browser tests
chromium:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -q && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

## postgresql: Debian's PostgreSQL for the tests and the benchmark (each starts its own throw-away server)
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || { \
		$(SUDO) apt-get update -q && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; }

## libreoffice: Debian's LibreOffice Writer (no GUI) and its Python bridge: the tests open, accept and reject the
## Word redline with it
libreoffice:
	@{ command -v soffice && /usr/bin/python3 -c 'import uno'; } >/dev/null 2>&1 || { $(SUDO) apt-get update -q && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q libreoffice-writer-nogui python3-uno; }

## test: install test extras and run the whole suite (browser, PostgreSQL and LibreOffice tests included)
test: $(VENV)/.installed-test bytecode chromium postgresql libreoffice
	$(if $(TEST_TMPDIR),TMPDIR=$(TEST_TMPDIR) )$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

## lint: ruff (style, imports, common bugs) and mypy (types) over the package and the tests
lint: $(VENV)/.installed-test
	$(BIN)/ruff check scripts tests
	$(BIN)/mypy

## bench: history/diff/build/notify benchmark; prints a table, writes bench-results/bench.json
bench: $(VENV)/.installed-test bytecode postgresql
	$(BIN)/python -m policy_site.bench --out bench-results/bench.json

## dist: the package as an organisation installs it: a wheel and an sdist in dist/ (templates included)
dist: $(VENV)/.installed-test
	rm -rf dist
	$(BIN)/python -m build --outdir dist .

## demo: a demo repository with a realistic history in .cache/demo, built, outbox filled
demo: $(VENV)/.installed bytecode
	rm -rf .cache/demo
	$(BIN)/policy demo .cache/demo

clean:
	rm -rf site .cache test-output bench-results .pytest_cache dist build

distclean: clean
	rm -rf $(VENV) scripts/*.egg-info
