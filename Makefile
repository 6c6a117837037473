# Two commands on a fresh machine:  make train   and   make test
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The optional extras the suite exercises (pyproject.toml says what each one is for).
EXTRAS := dev,export,services,scale,stream,monitoring,daemon,market,style,feedback
# Debian packages the test suite needs, one line per reason; tests start each server on a loopback port.
# projectM renders real presets
SYSTEM_PACKAGES := libprojectm-dev projectm-data libegl-dev libgl-dev g++
# a PostgreSQL server for the shared Optuna study (docs/scaling.md)
SYSTEM_PACKAGES += postgresql
# the streaming reweighter's Redis (docs/streaming.md)
SYSTEM_PACKAGES += redis-server
# Prometheus and Alertmanager for the monitoring stack (docs/monitoring.md)
SYSTEM_PACKAGES += prometheus prometheus-alertmanager
# a real headless browser for the market page's end-to-end test (Playwright drives it; docs/market.md)
SYSTEM_PACKAGES += chromium
# a synthesiser and a General MIDI soundfont: the style engine's generated training audio (docs/style.md)
SYSTEM_PACKAGES += fluidsynth fluid-soundfont-gm
# Python's C headers: setup.py compiles the optional C extensions (gcc comes with g++ above)
SYSTEM_PACKAGES += python3-dev

.PHONY: help venv sysdeps native lint train smoke test test-fast bench tensorboard clean

help:
	@echo "make train    set up and train on the embedded default dataset (experiment=full)"
	@echo "make test     set up, lint (ruff) and run the whole test suite (slow tests included)"
	@echo "make lint     ruff check and ruff format --check on the whole tree"
	@echo "make smoke    a one-minute training run on synthetic data"
	@echo "make bench    run the benchmarks (figures go to docs/benchmarks.md by hand)"

$(STAMP): pyproject.toml constraints.txt setup.py aivj/milk/_milkscan.c aivj/milk/_milkcount.c coupling/nets/_pair_attention.c
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first, from the constraints file: an open range would pull ~3 GB of CUDA wheels
	$(PY) -m pip install -q -c constraints.txt torch
	$(PY) -m pip install -q -c constraints.txt -e '.[$(EXTRAS)]'
	touch $(STAMP)

venv: $(STAMP)

# Installs what is missing, never asks: CI starts from a bare machine.
sysdeps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# The optional C extensions (setup.py) are built by the venv's install when gcc and the Python headers are
# there; a venv made before sysdeps installed them (make train on a bare machine) gets them built here.
native: venv sysdeps
	$(PY) -c "import aivj.milk._milkscan, aivj.milk._milkcount, coupling.nets._pair_attention" 2>/dev/null || \
	  $(PY) -m pip install -q -c constraints.txt --no-deps -e .
	$(VENV)/bin/aivj refine build-shim

train: venv
	$(PY) train.py experiment=full

smoke: venv
	$(PY) train.py experiment=smoke


lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: sysdeps venv native lint  # sysdeps first: the venv's install compiles the C extensions with gcc
	$(PY) -m pytest tests -q -p no:cacheprovider --durations=15

test-fast: venv
	$(PY) -m pytest tests -q -m "not slow"

# The benchmarks of issue 13, each printing its figures as ratios to a reference timed in the same
# run (the machine may be shared; each runs under nice and names its date, cores and load); one not
# written yet is named and skipped.
BENCHES := bench_training.py bench_scoring.py "bench_io.py" "bench_features.py --against 137848f" bench_render.py bench_refinery.py bench_loader.py bench_stream.py bench_style.py

bench: venv
	@for b in $(BENCHES); do \
	  set -- $$b; \
	  if [ -f benchmarks/$$1 ]; then \
	    echo "== benchmarks/$$b: $$(date -u '+%F %H:%M UTC'), $$(nproc) cores, load $$(cut -d' ' -f1-3 /proc/loadavg)"; \
	    nice -n 10 $(PY) benchmarks/$$b || exit 1; \
	  else echo "== benchmarks/$$1: not written yet, skipped"; fi; \
	done

tensorboard: venv
	$(VENV)/bin/tensorboard --logdir var/runs/

clean:
	rm -rf outputs multirun lightning_logs build .pytest_cache
