# Two commands on a fresh machine:
#   make run    install everything, then run the OSC bridge and the demo with the bundled model
#   make test   install everything, then run every test (Python, Lua, Node, browser)
# Debian/Ubuntu system packages are installed with apt-get when missing (needs root or sudo).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# what each job needs from the system (Debian package names)
RUN_APT  := fluidsynth
TEST_APT := fluidsynth lua5.4 liblo-tools mma chromium nodejs npm

.PHONY: run test bench setup system-run system-test clean

run: setup system-run
	$(BIN)/midifill serve --demo

test: setup system-test tests/ableton/node_modules
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/midifill bench

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[demo,train,test]'
	touch $@

system-run:
	@$(MAKE) --no-print-directory apt PKGS="$(RUN_APT)"

system-test:
	@$(MAKE) --no-print-directory apt PKGS="$(TEST_APT)"

# install only the packages that are missing, so a ready machine needs no root
apt:
	@missing=""; for p in $(PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

tests/ableton/node_modules: tests/ableton/package-lock.json
	cd tests/ableton && npm ci --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) tests/ableton/node_modules tests/_output .pytest_cache
