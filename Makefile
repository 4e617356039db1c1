# Two entry points (see README): `make run` and `make test`. Each sets up what it needs.
VENV   := .venv
PY     := $(VENV)/bin/python
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test bench chromium

$(VENV)/.runtime: requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

# llama-cpp-python (the compatibility suite's server) compiles llama.cpp the first time:
# CPU only, without its multimodal library; pip's wheel cache reuses the build after that.
LLAMA_CMAKE_ARGS := -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
                    -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF -DGGML_CUDA=OFF

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	@echo "Installing test dependencies (the first time, llama.cpp is compiled: 15-45 min)"
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PY) -m pip install -q -r requirements-dev.txt
	touch $@

chromium:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; }

run: $(VENV)/.runtime
	$(PY) -m streamlit run playground.py

test: $(VENV)/.dev chromium
	$(PY) -m pytest -q -p no:cacheprovider

bench: $(VENV)/.dev chromium
	$(PY) -m bench.report
