# backstride: `make demo` and `make test` each create or reuse .venv and install what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test install bench validate speed clean browser system-packages vm

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m dashboard.demo

# System packages the tests use, from Debian: chromium + chromium-driver (matching versions) for the
# dashboard's browser tests, postgresql for the journal's clinic-database test.  Installed once.
SYSTEM_BINS := /usr/bin/chromium /usr/bin/chromedriver
system-packages:
	@missing=""; \
	for b in $(SYSTEM_BINS); do [ -x $$b ] || missing="yes"; done; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="yes"; \
	if [ -n "$$missing" ]; then \
		echo "installing chromium, chromium-driver and postgresql (apt-get)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
			chromium chromium-driver postgresql; \
	fi
browser: system-packages

# Full-stack BLE test: a QEMU guest with kernel Bluetooth (Debian packages and a kernel .deb, cached in .cache/vm/).
vm: $(STAMP)
	@PKGS="$$($(PY) tests/vm/harness.py missing-packages)"; \
	if [ -n "$$PKGS" ]; then SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$PKGS; fi
	$(PY) tests/vm/harness.py build

test: $(STAMP) system-packages vm
	$(PY) -m pytest -q

validate: $(STAMP)
	$(PY) bench/validate.py

speed: $(STAMP)
	$(PY) bench/speed.py

bench: validate speed

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
