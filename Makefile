# Entry points on a fresh clone: `make run` (the workflow, then its report) and `make test`.
# Each builds .venv first when it is missing, with $(PYTHON) if given, else the first of
# python3.13, python3.12, python3.11, python3 that runs and is Python >= 3.11.
#   make run CONFIG=config/presets/mnist1d-mlp.yaml     a preset (merged over config/config.yaml)
#   make run ARGS="--config 'seeds=[0]'"               any other snakemake arguments
#   make test PYTHON=python3.12 VENV=.venv-3.12         the tests under another Python
VENV ?= .venv
PY := $(VENV)/bin/python
SNAKEMAKE := $(VENV)/bin/snakemake
STAMP := $(VENV)/.installed
CONFIG ?=
ARGS ?=
SMK_ARGS = $(if $(CONFIG),--configfile $(CONFIG)) $(ARGS)
# results/{experiment} of config/config.yaml merged with $(CONFIG)
RESULTS = results/$(shell PYTHONPATH=workflow/scripts $(PY) -m dilt.configuration experiment \
	config/config.yaml $(CONFIG))

CANDIDATES := $(or $(PYTHON),python3.13 python3.12 python3.11 python3)
new_enough = $(shell $(1) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& command -v $(1))
BASE_PYTHON = $(firstword $(foreach p,$(CANDIDATES),$(call new_enough,$(p))))
FOUND = $(strip $(foreach p,$(CANDIDATES),$(shell $(p) -c \
	'import sys; print("$(p) is %d.%d," % sys.version_info[:2])' 2>/dev/null)))
NEED_PYTHON = DiLT needs Python >= 3.11 ($(if $(FOUND),$(FOUND) ,)tried $(CANDIDATES)): \
	install one (Debian/Ubuntu: apt install python3.11; or pyenv, conda, uv) and name it: \
	make $(MAKECMDGOALS) PYTHON=/path/to/python3.11
OLD_VENV = $(VENV) is $(shell $(PY) -V 2>&1), DiLT needs Python >= 3.11: remove $(VENV) \
	and run make again (PYTHON=... names the interpreter)

.PHONY: venv run report readme-figure test lint bench gpu-check clean python
.DEFAULT_GOAL := venv

venv: $(STAMP)

# The interpreter a new venv is built with (or the line saying that none fits).
python:
	@echo $(or $(BASE_PYTHON),$(error $(NEED_PYTHON)))

$(STAMP): requirements.txt requirements.lock
	$(if $(wildcard $(PY)),$(if $(call new_enough,$(PY)),@true,$(error $(OLD_VENV))),\
	$(or $(BASE_PYTHON),$(error $(NEED_PYTHON))) -m venv $(VENV))
	$(PY) -m pip install -q --upgrade pip==26.3
	$(PY) -m pip install -q -r requirements.txt -c requirements.lock
	touch $@

# profiles/default (cores: all) is picked up by Snakemake itself.
run: $(STAMP)
	$(SNAKEMAKE) $(SMK_ARGS)
	@$(MAKE) --no-print-directory report
	@echo "Figures (PDF + PNG): $(RESULTS)/figures/"
	@echo "Tables:              $(RESULTS)/tables/"
	@echo "Report:              $(RESULTS)/report.html"

# Every figure and table with its caption, in one HTML file.
report: $(STAMP)
	$(SNAKEMAKE) $(SMK_ARGS) --report $(RESULTS)/report.html

# The README's figure, from the last run of the default study.
readme-figure: $(STAMP)
	cp results/$(shell PYTHONPATH=workflow/scripts $(PY) -m dilt.configuration experiment \
	config/config.yaml)/figures/acc_vs_sparsity.png docs/images/acc_vs_sparsity.png

test: $(STAMP)
	$(PY) -m pytest -q --durations=15 tests

lint: $(STAMP)
	$(VENV)/bin/ruff check workflow tests bench
	$(VENV)/bin/snakefmt --check Snakefile rules
	$(SNAKEMAKE) --lint

bench: $(STAMP)
	$(PY) bench/run_all.py

gpu-check: $(STAMP)  # one GPU: ResNet-50 and DeiT-S images/s, peak memory, masks under bf16
	$(PY) bench/gpu_check.py

clean:
	rm -rf results logs benchmarks checkpoints .snakemake
