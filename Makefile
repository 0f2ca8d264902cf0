# The two commands: `make run` and `make test`.  Both set themselves up on a fresh
# Debian 12 machine (as root they apt-get what is missing).
PYTHON ?= python3
VENV ?= .venv
STATE_DIR ?= ./var
RUN_FLAGS ?=
PYTEST_FLAGS ?=
BIN := $(VENV)/bin

.PHONY: run test lint bench clean image deb test-image verify-units fuzz soak

$(BIN)/.installed: setup.cfg pyproject.toml
	scripts/setup-system.sh run
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

.test-tools: scripts/setup-system.sh
	scripts/setup-system.sh test
	touch $@

run: $(BIN)/.installed
	$(BIN)/printbridge run --board emulator --state-dir $(STATE_DIR) $(RUN_FLAGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check .

test: $(BIN)/.installed .test-tools lint
	$(BIN)/python -m pytest -m "not image" $(PYTEST_FLAGS)

bench: $(BIN)/.installed .test-tools
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

# Longer runs of the hostile-input and nothing-lost tests than `make test` does.
fuzz: $(BIN)/.installed .test-tools
	FUZZ_COUNT=200000 $(BIN)/python -m pytest -q tests/test_fuzz.py tests/ipp/test_codec.py

soak: $(BIN)/.installed .test-tools
	CRASH_RUNS=500 LOAD_CLIENTS=50 LOAD_JOBS=20 $(BIN)/python -m pytest -q tests/durability
	$(BIN)/python bench/load.py

clean:
	rm -rf $(VENV) .test-tools var build *.egg-info .pytest_cache

# --- Flash and boot (firmware/image/).  The builders use the standard library only, so
# they run with the system python3; mtools, dpkg-deb and pip do the work.
#   make image BASE=2024-11-19-raspios-bookworm-arm64-lite.img.xz OUT=printbridge.img
#   optional: WHEELHOUSE=dir (use these wheels, no download), ARCH="aarch64 armv7l",
#   PYVER=3.11 (default: read from the image), CONFIG=filled-in printbridge.txt,
#   APT_SOURCE="deb URI SUITE COMPONENTS" (the card's Debian packages from a mirror instead
#   of the sources the card names)
BASE ?=
OUT ?= printbridge.img
WHEELHOUSE ?=
ARCH ?=
PYVER ?=
CONFIG ?=
APT_SOURCE ?=
DEB_ARCH ?= arm64
DEB_OUT ?= printbridge.deb

image:
	@test -n "$(BASE)" || { echo "usage: make image BASE=raspios-lite.img[.xz] OUT=printbridge.img" >&2; exit 2; }
	$(PYTHON) -m firmware.image.build --base "$(BASE)" --out "$(OUT)" \
		$(if $(WHEELHOUSE),--wheelhouse "$(WHEELHOUSE)") $(if $(ARCH),--arch "$(ARCH)") \
		$(if $(PYVER),--python "$(PYVER)") $(if $(CONFIG),--config "$(CONFIG)") \
		$(if $(APT_SOURCE),--apt-source "$(APT_SOURCE)")

deb:
	$(PYTHON) -m firmware.image.deb --out "$(DEB_OUT)" --arch "$(DEB_ARCH)" \
		$(if $(WHEELHOUSE),--wheelhouse "$(WHEELHOUSE)") $(if $(PYVER),--python "$(PYVER)")

# systemd-analyze verify checks that ExecStart= exists: give it the installed path in a
# private mount namespace (a tmpfs over /opt holding a stub), and nothing else.
verify-units:
	unshare --mount $(if $(filter 0,$(shell id -u)),,--map-root-user) sh -c 'mount -t tmpfs tmpfs /opt && \
		mkdir -p /opt/printbridge/bin && printf "#!/bin/sh\n" > /opt/printbridge/bin/printbridge && \
		chmod +x /opt/printbridge/bin/printbridge && systemd-analyze verify systemd/*'

# The slow end-to-end check: the first boot in systemd-nspawn on a debootstrapped Debian
# root (cached in $(IMAGE_CACHE)), then the daemon answering Get-Printer-Attributes there.
# Natively x86_64 (no ARCH, or ARCH=amd64).  ARCH=arm64 or ARCH=armhf: a Debian root of
# that architecture run under qemu-user-static (binfmt_misc handlers registered for the
# run and taken away after, tests/boot/qemu.py), on a card for which `make image` builds
# the wheelhouse itself; several times slower.
IMAGE_CACHE ?= $(HOME)/.cache/printbridge
test-image: $(BIN)/.installed .test-tools
	PRINTBRIDGE_TEST_IMAGE=1 PRINTBRIDGE_IMAGE_CACHE=$(IMAGE_CACHE) \
		PRINTBRIDGE_TEST_IMAGE_ARCH=$(or $(ARCH),amd64) \
		$(BIN)/python -m pytest -m image tests/boot $(PYTEST_FLAGS)
