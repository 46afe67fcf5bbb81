# dtbench make targets: thin wrappers over the `dtbench` CLI (see `make help`).
SHELL := /bin/bash
PY ?= .venv/bin/python
DTBENCH := $(PY) -m dtbench
PROFILE ?= quick
JOBS ?= 2
# datasets made side by side, one process per task (three SAC runs on two cores beat two, then one)
GEN_JOBS ?= 3
GEN_BUDGET ?= $(PROFILE)
DOMAINS ?= mujoco atari
# where runs, tables and figures go: your workspace (git-ignored); RESULTS=results writes the
# committed reference instead (maintainers regenerating it)
RESULTS ?= workspace
export HF_HUB_OFFLINE := 1
export MINARI_DATASETS_PATH ?= $(CURDIR)/data/minari

.PHONY: help install test test-fast lint first-run data-download probes budget-probe mujoco-bench-data mujoco-bench-curves mujoco-bench-probes mujoco-bench mujoco-bench-delayed mujoco-bench-all promote keydoor keydoor-data keydoor-table mujoco mujoco-data \
	mujoco-table atari atari-data atari-table graph critic sparse pbc ablation-context ablation-target ablations paper report bench bench-gpu clean-runs

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-21s %s\n", $$1, $$2}'

install: ## create .venv and install dtbench (CPU torch when there is no CUDA)
	@test -x $(PY) || python3 -m venv .venv
	@if command -v nvidia-smi >/dev/null 2>&1; then \
	  .venv/bin/pip install -q "torch>=2.4"; \
	else \
	  .venv/bin/pip install -q "torch==2.13.0"; \
	fi
	.venv/bin/pip install -q -e ".[dev]"

test: ## run the whole test suite (pytest; what CI runs)
	$(PY) -m pytest -q

test-fast: ## the test suite without the slow tests (Ray cluster, kill-and-resume, plug-in install)
	$(PY) -m pytest -q -m "not slow"

lint: ## ruff, and the import layers of pyproject.toml (import-linter)
	.venv/bin/ruff check dtbench baselines tests benchmarks
	.venv/bin/lint-imports

# Each domain's runs are its benchmark grid (registered with the domain; `dtbench suite <domain>
# --dry-run` lists them). Narrow it with TASKS, DATASETS, ALGOS, VARIANTS, SEEDS (space-separated).
# RAY_ADDRESS=auto|HOST:PORT sends the runs to a Ray cluster instead of local processes.
# EXTRA passes more options to `dtbench suite`, e.g. EXTRA=--allow-stand-in-data.
NARROW = $(foreach t,$(TASKS),--task $(t)) $(foreach d,$(DATASETS),-d $(d)) \
	$(foreach a,$(ALGOS),-a $(a)) $(foreach v,$(VARIANTS),--variant $(v)) \
	$(foreach s,$(SEEDS),--seed $(s))
SUITE = $(DTBENCH) suite $(1) -p $(PROFILE) --jobs $(JOBS) --data-jobs $(GEN_JOBS) --results $(RESULTS) \
	$(if $(RAY_ADDRESS),--launcher ray --address $(RAY_ADDRESS)) \
	--budget $(GEN_BUDGET) $(NARROW) $(EXTRA)

# the first command: a real, small benchmark trained from scratch into workspace/first-run
# (never the committed results), then every cell compared with the committed reference
# two of the five seeds: the 1K row at the benchmark's budget (8k steps for every method)
FIRST = keydoor -p quick -d random-1k -s 0 -s 1
first-run: ## train Key-to-Door 1K (DT, CQL, BC, %BC, random; seeds 0-1; ~12 min on 2 cores) into workspace/first-run, then compare each cell with results/
	$(DTBENCH) suite $(FIRST) --jobs $(JOBS) --results workspace/first-run
	$(DTBENCH) compare $(FIRST) --results workspace/first-run --reference results

keydoor-data: ## make the Key-to-Door random-walk datasets (1K and 10K episodes)
	$(call SUITE,keydoor) --data-only

keydoor: ## Key-to-Door: DT, CQL, BC, %BC and random on 1K and 10K episodes (5 seeds, 8k steps each), then the table
	$(call SUITE,keydoor)
	$(MAKE) --no-print-directory keydoor-table

keydoor-table: ## rebuild RESULTS/keydoor.md from stored runs
	$(DTBENCH) report keydoor --profile $(PROFILE) --results $(RESULTS)

data-download: ## download the published data DOMAINS' paper grid reads (D4RL, DQN-replay; DOMAINS=mujoco atari)
	$(DTBENCH) data download --grid --profile paper $(DOMAINS)

mujoco-data: ## make the MuJoCo datasets the runs need and lack (SAC online; GEN_BUDGET=PROFILE)
	$(call SUITE,mujoco) --data-only

mujoco: ## MuJoCo: DT, CQL, BC and 10%BC on medium, medium-replay, medium-expert, then the table
	$(call SUITE,mujoco)
	$(MAKE) --no-print-directory mujoco-table

mujoco-table: ## rebuild RESULTS/mujoco.md (the paper's D4RL table) from stored runs
	$(DTBENCH) report mujoco --profile $(PROFILE) --results $(RESULTS)

atari-data: ## make the local Atari datasets the runs need (scripted + random play)
	$(call SUITE,atari) --data-only

atari: ## Atari: DT, CQL, BC and 10%BC on Pong and Breakout (paper: 4 games), then the table
	$(call SUITE,atari)
	$(MAKE) --no-print-directory atari-table

atari-table: ## rebuild RESULTS/atari.md (the paper's Atari table) from stored runs
	$(DTBENCH) report atari --profile $(PROFILE) --results $(RESULTS)

# Tuning: every method's key settings chosen by the same number of probes, on probe seeds no
# table uses (each domain's registry.Tuning: candidates, datasets, seeds, the rule)
TUNED_DOMAINS ?= keydoor graph
probes: ## tune every method of TUNED_DOMAINS (the same number of probes each, on seeds 100 and 101), then the probe table
	$(DTBENCH) tune $(TUNED_DOMAINS) -p $(PROFILE) --jobs $(JOBS) --results $(RESULTS) $(EXTRA)
	$(DTBENCH) report probes --profile $(PROFILE) --results $(RESULTS)

BUDGET_PROBE_STEPS ?= 20000
budget-probe: ## Key-to-Door DT, CQL, BC and %BC at the profile's tuned settings for BUDGET_PROBE_STEPS each on seed 100 (19 evaluations during training and the final one): does the 8k-step budget stop a method early?
	$(call SUITE,keydoor) -a dt -a cql -a bc -a bc10 --seed 100 \
	  --set train.steps=$(BUDGET_PROBE_STEPS) --set baseline.steps=$(BUDGET_PROBE_STEPS) \
	  --set eval.during_training=19
	$(DTBENCH) report budget-probe --profile $(PROFILE) --results $(RESULTS)

# The MuJoCo benchmark tier (results/mujoco-bench.md): the paper's DT and d3rlpy's CQL, BC and
# 10%BC and the paper's BC on Hopper data made by the bench generation budget, run as the
# domain's named grids under the paper profile (dtbench/domains/mujoco/profiles.py: GRIDS,
# TUNING). In order: the data (SAC 300k steps per task), the learning curves that choose the
# step budget (seed 100), the tuning probes (seeds 100-101), the tier (seeds 0-2; 0-4 on
# medium-replay), then its tables.
# the tier's runs leave each library its widest kernels (docs/implementation-details.md, "CPU
# runs are pinned"): on an AVX-512 Xeon DT trains 1.45x and CQL 1.85x faster than pinned to AVX2;
# BENCH_ISA=avx2 pins them like every other run. Its data is made pinned, as the reference's was.
BENCH_ISA ?= native
BAD_ISA = BENCH_ISA is '$(BENCH_ISA)': give native (the libraries' widest kernels) or avx2 (pinned)
BENCH_RUN = $(if $(filter native avx2,$(BENCH_ISA)),,$(error $(BAD_ISA)))DTBENCH_CPU_ISA=$(BENCH_ISA) $(DTBENCH)
BENCH = $(BENCH_RUN) suite mujoco -p paper --jobs $(JOBS) --results $(RESULTS) $(NARROW) $(EXTRA) --grid
# The committed tier trained on data made on an Intel Xeon: another kind of CPU makes other data
# (docs/implementation-details.md), beside whose stale runs `make mujoco-bench` refuses to train.
mujoco-bench-data: ## make the bench budget's Hopper datasets (SAC 300k steps, D4RL's recipe; 2.0 h wall on one core of an Intel Xeon, the CPU kind whose data the committed tier used)
	$(DTBENCH) data make mujoco/hopper --budget bench

mujoco-bench-curves: ## the MuJoCo tier's learning curves: its five methods (DT, CQL, BC, 10%BC, paper BC) on Hopper bench medium-replay, seed 100, 30k steps (the tier runs 15k)
	$(BENCH) bench-curves
	$(DTBENCH) report mujoco-bench-curves --results $(RESULTS)

mujoco-bench-probes: ## tune the MuJoCo tier's methods (2 candidates each on Hopper bench medium-replay, seeds 100-101)
	$(BENCH_RUN) tune mujoco -p paper --grid bench --jobs $(JOBS) --results $(RESULTS) $(EXTRA)
	$(DTBENCH) report probes --results $(RESULTS)

mujoco-bench: ## the MuJoCo benchmark tier: DT, CQL, BC, 10%BC, paper BC on Hopper's bench data (3 seeds; 5 on medium-replay, with 25/40%BC and DT at 6 targets), then its tables and claims
	$(BENCH) bench
	$(DTBENCH) report mujoco-bench mujoco-bench-pbc mujoco-bench-targets mujoco-bench-curves claims --results $(RESULTS)

mujoco-bench-delayed: ## the MuJoCo tier's delayed rewards: DT and CQL on Hopper bench medium-replay (3 seeds), beside the dense runs
	$(BENCH) bench-delayed
	$(DTBENCH) report mujoco-bench-delayed claims --results $(RESULTS)

mujoco-bench-all: ## the MuJoCo tier from nothing: data, curves, probes, runs, delayed runs, then every table, figure and the index (in this order, also under make -j)
	$(MAKE) mujoco-bench-data
	$(MAKE) mujoco-bench-curves
	$(MAKE) mujoco-bench-probes
	$(MAKE) mujoco-bench
	$(MAKE) mujoco-bench-delayed
	$(MAKE) report

graph: ## shortest path on a 20-node graph and the stitching test: DT, CQL, BC, %BC, random (5 seeds), then the tables (Figure 6)
	$(call SUITE,graph)
	$(DTBENCH) report graph graph-stitch --profile $(PROFILE) --results $(RESULTS)

critic: ## DT as a critic on Key-to-Door 10K: predicted success through episodes, attention (Figure 5), then the report
	$(DTBENCH) critic -p $(PROFILE) --results $(RESULTS)
	$(MAKE) --no-print-directory report

# Key-to-Door's reward already comes only at the door, the last step: delayed changes nothing
SPARSE_DOMAINS ?= mujoco atari
sparse: ## dense and delayed (sparse) rewards side by side on each domain's grid (paper Table 7), then the report
	for d in $(SPARSE_DOMAINS); do \
	  $(call SUITE,$$d) --variant dense --variant delayed || exit 1; done
	$(MAKE) --no-print-directory report

PBC_DOMAINS ?= mujoco atari
pbc: ## 25%BC and 40%BC on each domain of PBC_DOMAINS, beside the DT, 10%BC and BC runs of its grid (`make <domain>` first; paper Tables 3 and 4), then the report
	for d in $(PBC_DOMAINS); do $(call SUITE,$$d) -a bc25 -a bc40 || exit 1; done
	$(MAKE) --no-print-directory report

CONTEXT_DOMAIN ?= atari
CONTEXT_LENGTHS ?= 1
ablation-context: ## DT at K=1 (CONTEXT_LENGTHS) beside DT at the profile's K (paper Table 5), then the table
	$(call SUITE,$(CONTEXT_DOMAIN)) -a dt
	for k in $(CONTEXT_LENGTHS); do \
	  $(call SUITE,$(CONTEXT_DOMAIN)) -a dt --set model.context_len=$$k || exit 1; done
	$(DTBENCH) report context --profile $(PROFILE) --results $(RESULTS)

TARGET_DOMAIN ?= mujoco
TARGET_POINTS ?= 8
ablation-target: ## DT at TARGET_POINTS targets from the data's worst to 1.5x its best return (paper Figure 4), then the report
	$(call SUITE,$(TARGET_DOMAIN)) -a dt --set eval.target_sweep=$(TARGET_POINTS)
	$(MAKE) --no-print-directory report

ablations: sparse pbc ablation-context ablation-target graph critic ## sparse, pbc, ablation-context, ablation-target, graph and critic on PROFILE (quick: hours on 2 cores)

paper: PROFILE = paper
paper: ## the paper's experiment (Tables 1-7, Figures 4-6, graph) on its data: every paper grid, the critic, the report (GPU-sized; stops when the data is missing)
	$(call SUITE,all)
	$(DTBENCH) critic -p paper --results $(RESULTS)
	$(MAKE) --no-print-directory report PROFILE=paper

PROMOTE ?= keydoor
promote: ## copy the finished, current runs of PROMOTE (domains) from RESULTS (workspace/) into results/, then rebuild the report in results/
	$(DTBENCH) promote $(PROMOTE) --results $(RESULTS) --reference results
	$(DTBENCH) report --profile $(PROFILE) --results results

report: ## rebuild every table, figure and aggregate in RESULTS (default workspace/) from its stored runs; RESULTS=results also rewrites README.md's headline
	$(DTBENCH) report --profile $(PROFILE) --results $(RESULTS)

bench: ## speed against HF/d3rlpy DT, per-sample sampling, one-episode evaluation -> results/bench.md (~10 min)
	$(PY) -m benchmarks.bench

bench-gpu: ## the paper's configs on this machine's GPU: one run, stacked seeds, settings, eval workers -> results/bench-gpu.md (<= 8 min)
	$(PY) -m benchmarks.bench_gpu

clean-runs: ## delete every smoke-profile run folder under RESULTS/runs (never quick or paper runs; `make report` refreshes runs.csv)
	rm -rf $(RESULTS)/runs/*/*/*/*/*/smoke
