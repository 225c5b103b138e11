# Two commands on a fresh machine:
#   make run    install everything, then run the OSC bridge and the demo with the bundled model
#   make test   install everything, then run every test (Python, Lua, Node, browser)
# Debian/Ubuntu system packages are installed with apt-get when missing (needs root or sudo).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# what each job needs from the system: command-or-library:Debian-package
RUN_NEEDS  := libfluidsynth:libfluidsynth3
TEST_NEEDS := $(RUN_NEEDS) lua5.4:lua5.4 oscsend:liblo-tools mma:mma chromium:chromium \
              node:nodejs npm:npm

.PHONY: run test bench setup system-run system-test clean device

run: setup system-run
	$(BIN)/midifill serve --demo

test: setup system-test tests/ableton/node_modules
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/midifill bench

# the Max for Live device, rebuilt from daw_scripts/ableton/midifill.maxpat
device:
	$(PYTHON) daw_scripts/ableton/build_amxd.py

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[demo,train,test]'
	touch $@

system-run:
	@$(MAKE) --no-print-directory apt NEEDS="$(RUN_NEEDS)"

system-test:
	@$(MAKE) --no-print-directory apt NEEDS="$(TEST_NEEDS)"

# install only what is missing (a command on PATH, or a shared library), so a
# ready machine needs no root; Node may come from elsewhere than Debian
apt:
	@missing=""; for need in $(NEEDS); do what=$${need%%:*}; pkg=$${need##*:}; \
	  if [ "$${what#lib}" != "$$what" ]; then ldconfig -p | grep -q "$$what" && continue; \
	  else command -v $$what >/dev/null 2>&1 && continue; fi; missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

tests/ableton/node_modules: tests/ableton/package-lock.json
	cd tests/ableton && npm ci --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) tests/ableton/node_modules tests/_output .pytest_cache
