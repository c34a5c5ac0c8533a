# Two commands from a fresh clone: `make build` and `make test`.
# Both create .venv (pinned by constraints.txt) on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: build test check-system clean

build: $(STAMP) check-system
	$(BIN)/pipeline build manuscripts --out dist

test: $(STAMP) check-system
	$(BIN)/python -m pytest -q

# The user's guide (docs/guide/, a book of this tool's own format) into
# dist/guide/; tests/test_guide.py builds and checks it the same way.
.PHONY: guide
guide: $(STAMP) check-system
	$(BIN)/pipeline build docs/guide --out dist/guide

# Build-time benchmark (benchmarks/README.md); writes benchmarks/out/results.md.
# bench-pandoc installs Debian's pandoc for the side-by-side columns where it
# can (root + apt), as check-system does; elsewhere the benchmark skips them.
.PHONY: bench bench-quick bench-engines bench-pandoc bench-catalog
BENCH_STAMP := $(VENV)/.installed-bench
bench: $(BENCH_STAMP) check-system bench-pandoc
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/catalog.py

# The catalog column alone: 1,000 per-article booklets, local --jobs 2 against
# a 2-worker loopback Dask cluster, cold and after one edit (about 35 minutes).
bench-catalog: $(BENCH_STAMP) check-system
	$(BIN)/python benchmarks/catalog.py

# The PDF engines alone, side by side (issue #30): ours with WeasyPrint and
# with Typst, pandoc 2 + WeasyPrint, pandoc 3 + Typst, Prince.
bench-engines: $(BENCH_STAMP) check-system bench-pandoc
	$(BIN)/python benchmarks/run.py --engines --sizes seed,60,300 --runs 3 --out benchmarks/out-engines

bench-quick: $(BENCH_STAMP) check-system bench-pandoc
	$(BIN)/python benchmarks/run.py --sizes seed,2,20 --runs 1

bench-pandoc:
	@command -v pandoc >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing pandoc (Debian) for the benchmark's side-by-side columns"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q pandoc >/dev/null 2>&1 || \
	    (apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q pandoc >/dev/null 2>&1) || \
	    echo "warning: apt-get could not install pandoc: the benchmark skips its pandoc columns"; \
	  else echo "note: pandoc is not on PATH and cannot be installed here (needs root and apt-get): the benchmark skips its pandoc columns"; fi; }

$(BENCH_STAMP): $(STAMP) pyproject.toml constraints.txt
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test,bench]'
	touch $(BENCH_STAMP)

# Accessibility: DAISY Ace on the book's EPUB; fails on any critical, serious
# or moderate violation (tools/ace_report.py prints them all). tools/ace.sh
# installs Ace into .tools/ from the npm registry and, as root with apt,
# Debian's chromium. Reports: dist/ace/<book>/report.html.
.PHONY: check-a11y
check-a11y: build
	@set -e; reports=; for epub in dist/*.epub; do [ -e "$$epub" ] || continue; \
	  out="dist/ace/$$(basename "$$epub" .epub)"; \
	  bash tools/ace.sh --outdir "$$out" "$$epub"; \
	  reports="$$reports $$out"; \
	done; \
	[ -n "$$reports" ] || { echo "check-a11y: no EPUB in dist/"; exit 1; }; \
	$(BIN)/python tools/ace_report.py $$reports

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

# WeasyPrint subsets fonts with HarfBuzz's subsetter when present, else with
# fontTools (with a warning, and different bytes); every script other than
# Latin is drawn with Debian's Noto fonts (pipeline/fonts.py). This installs
# the missing Debian packages where we can (root + apt) and says so otherwise.
check-system:
	@missing="$$($(BIN)/python -m pipeline.commands.system 2>/dev/null)" || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing $$missing (Debian)"; \
	    (DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null 2>&1 || \
	     (apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null 2>&1)) \
	    && $(BIN)/python -m pipeline.commands.system >/dev/null; \
	  else echo "warning: install the Debian packages $$missing: HarfBuzz's subsetter for reproducible PDFs, Noto fonts for scripts beyond Latin"; fi; }

clean:
	rm -rf dist .pytest_cache
