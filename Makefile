# The two commands a new user needs: `make run` and `make test`. Each sets up its own venv.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test bench keys clean demo image image-test image-drill image-lock

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,systemd]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m appliance.pair --demo

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m tests.bench

clean:
	rm -rf var .hypothesis

# The bootable appliance image (image/README.md): build, boot test under qemu, two-VM cutover drill.
image: $(STAMP)
	image/build.sh

image-lock: $(STAMP)
	LOCK_UPDATE=1 image/build.sh

image-test: $(STAMP)
	$(PY) image/boot_test.py

image-drill: $(STAMP)
	$(PY) image/drill.py

# With `make run` going in another terminal: two simulated carriers port a number, three LSMSs watch.
demo: $(STAMP)
	$(PY) -m appliance.peers port
