# backstride: `make demo` and `make test` each create or reuse .venv and install what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test install bench validate speed clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m sensing.demo

test: $(STAMP)
	$(PY) -m pytest -q

validate: $(STAMP)
	$(PY) bench/validate.py

speed: $(STAMP)
	$(PY) bench/speed.py

bench: validate speed

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
