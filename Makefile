# netqa — the two quick-start commands (`make demo`, `make test`) and the benchmarks.
# Needs only python3 (>= 3.11) and make; everything else is installed into .venv.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.netqa-installed

.PHONY: demo test bench setup clean browser

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,learned]'
	$(BIN)/python -m netqa.warmup
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/netqa demo --out demo-output --overwrite

test: $(STAMP) browser
	$(BIN)/python -m pytest

# The report and HTML-map tests load pages in a headless Debian chromium. Installed here when
# missing and we may (root with apt-get); otherwise those tests skip with a visible reason.
browser:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's chromium for the browser checks"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "note: chromium could not be installed; the browser checks will be skipped"; \
	else echo "note: chromium not found; the browser checks will be skipped (apt-get install chromium to run them)"; fi

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) demo-output .pytest_cache build *.egg-info
