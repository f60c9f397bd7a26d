# Two commands set everything up on a fresh machine with Python 3.11:
#   make demo   - create .venv, install nsreason with pinned deps, run the demo
#   make test   - same set-up, then the whole test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

# Nothing is ever fetched from a model hub at run time.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

# torch is pinned in the same pip command as everything else: an unpinned torch pulls a
# 3 GB CUDA build here, torch==2.13.0 is the CPU wheel.
$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check \
		"torch==2.13.0" -e ".[torch,rich,progress,test]"
	touch $(STAMP)

.PHONY: install demo test bench clean
install: $(STAMP)

demo: $(STAMP)
	$(PY) examples/demo.py

test: $(STAMP)
	$(PY) -m pytest -q tests nsreason

bench: $(STAMP)
	$(PY) benchmarks/executor_throughput.py
	$(PY) benchmarks/scaling.py
	$(PY) benchmarks/parser.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
