# dtbench make targets: thin wrappers over the `dtbench` CLI (see `make help`).
SHELL := /bin/bash
PY ?= .venv/bin/python
DTBENCH := $(PY) -m dtbench
PROFILE ?= quick
SEEDS ?= 0 1 2
JOBS ?= 2
SEED_FLAGS := $(foreach s,$(SEEDS),--seed $(s))
export HF_HUB_OFFLINE := 1
export MINARI_DATASETS_PATH ?= $(CURDIR)/data/minari

.PHONY: help install test lint keydoor keydoor-data keydoor-table mujoco mujoco-data \
	mujoco-table atari atari-data atari-table bench-sampler clean-runs

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-14s %s\n", $$1, $$2}'

install: ## create .venv and install dtbench (CPU torch when there is no CUDA)
	@test -x $(PY) || python3 -m venv .venv
	@if command -v nvidia-smi >/dev/null 2>&1; then \
	  .venv/bin/pip install -q "torch>=2.4"; \
	else \
	  .venv/bin/pip install -q "torch==2.13.0"; \
	fi
	.venv/bin/pip install -q -e ".[dev]"

test: ## run the test suite (pytest)
	$(PY) -m pytest -q

lint: ## ruff
	.venv/bin/ruff check dtbench baselines tests benchmarks

keydoor-data: ## make the Key-to-Door random-walk datasets (1K and 10K episodes)
	$(DTBENCH) data make keydoor

keydoor: keydoor-data ## Key-to-Door: DT, CQL, BC, %BC and random on 1K and 10K episodes, then the table
	$(DTBENCH) train keydoor -d random-1k -d random-10k -a dt -a cql -a bc -a bc10 -a random \
	  -p $(PROFILE) $(SEED_FLAGS) --jobs $(JOBS)
	$(MAKE) --no-print-directory keydoor-table

keydoor-table: ## rebuild results/keydoor.md from stored runs
	$(DTBENCH) report keydoor --profile $(PROFILE)

MUJOCO_TASKS ?= hopper halfcheetah walker2d
MUJOCO_DATASETS ?= medium medium-replay medium-expert
MUJOCO_SEEDS ?= 0
# PROFILE=paper reads real data when it is on this machine (D4RL HDF5 in data/d4rl, else Minari's
# mujoco/* datasets) and generates only what is missing; other profiles use generated data
MUJOCO_PREFER ?= $(if $(filter paper,$(PROFILE)),d4rl minari,)
GEN_BUDGET ?= $(if $(filter paper,$(PROFILE)),paper,quick)
# tasks generate side by side (one process each; three on two cores beat two, then one)
GEN_JOBS ?= $(words $(MUJOCO_TASKS))
# the dataset names a task's runs use: `$(call mujoco_pick,hopper)`
mujoco_pick = $(DTBENCH) data pick mujoco/$(1) $(MUJOCO_DATASETS) \
	$(foreach p,$(MUJOCO_PREFER),--prefer $(p))

mujoco-data: ## generate the D4RL-style MuJoCo datasets runs need (SAC online; GEN_BUDGET=quick)
	@need=""; for t in $(MUJOCO_TASKS); do \
	  ds=$$($(call mujoco_pick,$$t)) || exit 1; \
	  for d in $$ds; do case $$d in d4rl-*|minari-*) ;; *) need="$$need mujoco/$$t"; break;; esac; done; \
	done; \
	if [ -n "$$need" ]; then $(DTBENCH) data make $$need --budget $(GEN_BUDGET) --jobs $(GEN_JOBS); \
	else echo "every dataset is real data already on this machine: nothing to generate"; fi

mujoco: mujoco-data ## MuJoCo: DT, CQL, BC and 10%BC on every task and dataset, then the table
	for t in $(MUJOCO_TASKS); do \
	  ds=$$($(call mujoco_pick,$$t)) || exit 1; \
	  $(DTBENCH) train mujoco/$$t $$(printf -- '-d %s ' $$ds) -a dt -a cql -a bc -a bc10 \
	    -p $(PROFILE) $(foreach s,$(MUJOCO_SEEDS),--seed $(s)) --jobs $(JOBS) || exit 1; \
	done
	$(MAKE) --no-print-directory mujoco-table

mujoco-table: ## rebuild results/mujoco.md (the paper's D4RL table) from stored runs
	$(DTBENCH) report mujoco --profile $(PROFILE)

ATARI_GAMES ?= pong breakout
# PROFILE=paper runs on the DQN-replay 1% (files in data/dqn-replay); others on local play
ATARI_DATASETS ?= $(if $(filter paper,$(PROFILE)),dqn-replay,mixed)
ATARI_SEEDS ?= 0

atari-data: ## make the local Atari datasets (scripted + random play; GEN_BUDGET=quick)
	@if [ -n "$(filter mixed,$(ATARI_DATASETS))" ]; then \
	  $(DTBENCH) data make $(foreach g,$(ATARI_GAMES),atari/$(g)) --budget $(GEN_BUDGET) \
	    --jobs $(JOBS); \
	else echo "no locally generated datasets in ATARI_DATASETS: nothing to generate"; fi

atari: atari-data ## Atari: DT, CQL, BC and 10%BC on each game's data, then the table
	for g in $(ATARI_GAMES); do \
	  $(DTBENCH) train atari/$$g $(foreach d,$(ATARI_DATASETS),-d $(d)) -a dt -a cql -a bc \
	    -a bc10 -p $(PROFILE) $(foreach s,$(ATARI_SEEDS),--seed $(s)) --jobs $(JOBS) || exit 1; \
	done
	$(MAKE) --no-print-directory atari-table

atari-table: ## rebuild results/atari.md (the paper's Atari table) from stored runs
	$(DTBENCH) report atari --profile $(PROFILE)

bench-sampler: ## time the K-window sampler at the paper's D4RL batch shape (64 x K=20)
	$(PY) benchmarks/sampler_speed.py

clean-runs: ## delete results/runs of PROFILE=smoke only (never quick/paper results)
	rm -rf results/runs/*/*/*/*/*/smoke
