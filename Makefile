# backstride: `make demo` and `make test` each create or reuse .venv and install what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test install bench validate speed clean browser system-packages vm

$(STAMP): pyproject.toml | system-packages
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

# The demo needs only the package itself: no test tools, no Debian packages (the clinic report's PDF needs
# Chromium; without it the page says so and the HTML report still works).
DEMO_STAMP := $(VENV)/.installed-demo-stamp
$(DEMO_STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	$(PY) -m dashboard.demo

# System packages, from Debian: chromium + chromium-driver (matching versions) for the dashboard's
# browser tests; postgresql for the journal's clinic-database test; dbus (a private bus for the
# BlueZ D-Bus test) and the headers pip needs to build dbus-python; poppler-utils to read the clinic
# report's PDF in its browser test.  Installed once, before pip.
SYSTEM_PKGS := chromium chromium-driver postgresql dbus libdbus-1-dev libglib2.0-dev pkg-config poppler-utils
system-packages:
	@missing=""; \
	for p in $(SYSTEM_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing$$missing (apt-get)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
browser: system-packages

# Full-stack BLE test: a QEMU guest with kernel Bluetooth (Debian packages and a kernel .deb, cached in .cache/vm/).
vm: $(STAMP)
	@PKGS="$$($(PY) tests/vm/harness.py missing-packages)"; \
	if [ -n "$$PKGS" ]; then SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$PKGS; fi
	$(PY) tests/vm/harness.py build

test: system-packages $(STAMP) vm
	$(PY) -m pytest -q

validate: $(STAMP)
	$(PY) bench/validate.py

speed: $(STAMP)
	$(PY) bench/speed.py

bench: validate speed

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
