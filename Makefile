# Two commands on a fresh machine: `make run` and `make test`. Both build .venv when missing.
VENV := .venv
PY := $(VENV)/bin/python
SNAKEMAKE := $(VENV)/bin/snakemake
STAMP := $(VENV)/.installed

.PHONY: run test lint bench gpu-check clean

$(STAMP): requirements.txt requirements.lock
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip==26.3
	$(PY) -m pip install -q -r requirements.txt -c requirements.lock
	touch $@

run: $(STAMP)
	$(SNAKEMAKE) --workflow-profile profiles/default --cores all

test: $(STAMP)
	$(PY) -m pytest -q tests

lint: $(STAMP)
	$(VENV)/bin/ruff check workflow tests bench
	$(SNAKEMAKE) --lint

bench: $(STAMP)
	$(PY) bench/run_all.py

gpu-check: $(STAMP)  # one GPU: ResNet-50 and DeiT-S images/s, peak memory, masks under bf16
	$(PY) bench/gpu_check.py

clean:
	rm -rf results logs benchmarks checkpoints .snakemake
