# ipp-testbed: multi-node IPython Parallel + MPI in containers.
# `make help` lists the targets. Every target does the set-up it needs itself
# (Python venv, Compose v2, base image, node image), skipping what is done.

SHELL       := /bin/bash
PYTHON      ?= python3
VENV        ?= .venv
TESTBED     := $(VENV)/bin/testbed
PYTEST      := $(VENV)/bin/pytest
TOPOLOGY    ?= single-world
MPI         ?=
# IPP=8.8.0: another ipyparallel than the pinned one, an image of its own (docs/scenarios-versions.md)
IPP         ?=
NAME        ?=
ENGINES     ?=
SCATTER     ?=
PROGRAM     ?= hello
NP          ?=
PYTEST_ARGS ?=
ONLY        ?=
OUT         ?= results
BENCH       ?=
RUNS        ?= 5
BENCH_ARGS  ?=
PORT        ?=
SWARM       ?=
PLACE       ?=
HOSTS       ?= 3
MOUNT       ?=
REQUIREMENTS ?=
PIP         ?=
ROWS        ?=
STEPS       ?=
KIND        ?= docker26
# the everyday tier (`make test`): every test but those marked heavy or with side effects
CORE        := not (stacks or swarm or dind or hosts or scale or browser or faults or scenarios or extended)

name_arg    := $(if $(NAME),--name $(NAME))
engines_arg := $(if $(ENGINES),--engines $(ENGINES))
scatter_arg := $(if $(SCATTER),--scatter $(SCATTER))
mpi_arg     := $(if $(MPI),--mpi $(MPI))
port_arg    := $(if $(PORT),--port $(PORT))
# MOUNT=DIR[:PATH]: a host folder on every node; REQUIREMENTS=FILE, PIP="pkg1 pkg2": extra packages
# each value single-quoted for the shell (a quote in it closed and escaped): pkg>=1 is no redirection
quote        = '$(subst ','\'',$(1))'
user_arg    := $(if $(MOUNT),--mount $(call quote,$(MOUNT))) \
               $(if $(REQUIREMENTS),--requirements $(call quote,$(REQUIREMENTS))) \
               $(foreach p,$(PIP),--pip $(call quote,$(p)))
# SWARM=1: on the swarm this Docker engine manages; PLACE="node1=hostA node2=hostB"
swarm_arg   := $(if $(SWARM),--swarm) $(foreach p,$(PLACE),--place $(p))
ipp_arg     := $(if $(IPP),--ipp $(call quote,$(IPP)))

.DEFAULT_GOAL := help
.PHONY: help venv compose images lab-image browser notebook cluster-up cluster-down shell check run status topologies faults scenario \
        clean reproduce bench figures hosts host-up host-down test test-all test-scenarios test-unit test-integration lint images-all swarm-dind swarm-dind-down

help: ## list the targets
	@echo "ipp-testbed: IPython Parallel + MPI clusters in containers"
	@echo
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-18s %s\n", $$1, $$2}'
	@echo
	@echo "Variables: TOPOLOGY=$(TOPOLOGY)  NAME=<cluster name>  ENGINES=<per group, e.g. 3,2>  SCATTER=<N>"
	@echo "           MPI=openmpi4 (default) | openmpi5 | mpich   (images: also MPI=all)"
	@echo "           IPP=8.8.0 (images, cluster-up, check, scenario: another ipyparallel than the pinned 9.2.0)"
	@echo "           SWARM=1 (on a swarm)  PLACE=\"node1=hostA ...\"  HOSTS=3 (swarm-dind)"
	@echo "           MOUNT=DIR[:PATH] (a folder on every node)  REQUIREMENTS=FILE  PIP=\"pkg ...\" (extra packages)"

$(VENV)/.installed: pyproject.toml
	@if [ ! -x $(VENV)/bin/python ]; then \
	  echo "[venv] creating $(VENV)"; \
	  $(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	      echo "[venv] installing python3-venv"; \
	      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null && \
	      rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); \
	    else echo "error: '$(PYTHON) -m venv' failed: install python3-venv" >&2; exit 1; fi; }; \
	fi
	@echo "[venv] installing ipp-testbed and its test dependencies"
	@$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

venv: $(VENV)/.installed ## Python venv with the testbed CLI and test dependencies

compose: ## Docker Compose v2 (installs Debian's 2.x plugin when missing)
	@bash docker/install-compose.sh

images: venv compose ## base image (pulled or made with debootstrap) and the node image of MPI (default openmpi4; all)
	@$(TESTBED) images $(mpi_arg) $(ipp_arg)

topologies: venv ## list the topologies
	@$(TESTBED) topologies

cluster-up: images ## bring TOPOLOGY up and wait for its engines
	@$(TESTBED) up $(TOPOLOGY) $(name_arg) $(engines_arg) $(mpi_arg) $(ipp_arg) $(swarm_arg) $(user_arg)

cluster-down: venv ## remove the TOPOLOGY (or NAME) cluster; with neither, name the clusters that are up
	@$(TESTBED) down $(if $(filter command line environment,$(origin TOPOLOGY)),$(TOPOLOGY)) $(name_arg)

notebook: images ## JupyterLab on the controller node of TOPOLOGY, on 127.0.0.1 (PORT=; brings it up if need be)
	@$(TESTBED) notebook $(TOPOLOGY) $(name_arg) $(engines_arg) $(mpi_arg) $(port_arg) $(user_arg)

shell: venv ## IPython on the controller node of a running cluster, with rc and dview
	@$(TESTBED) shell $(TOPOLOGY) $(name_arg) $(mpi_arg) $(if $(MOUNT),--mount $(call quote,$(MOUNT)))

check: images ## run the lecture's workloads on TOPOLOGY and compare with derived values
	@$(TESTBED) check $(TOPOLOGY) $(name_arg) $(engines_arg) $(scatter_arg) $(mpi_arg) $(ipp_arg) $(swarm_arg) \
	  $(user_arg)

scenario: $(if $(NAME),images,venv) ## replay a known ipyparallel failure NAME=many-engines,... (none: the list) -> results/scenarios.json
	@$(TESTBED) scenario $(if $(NAME),$(NAME) $(mpi_arg) $(ipp_arg) --out $(OUT) $(if $(REPORT),--report),--list)

faults: images ## inject the fault catalogue into TOPOLOGY (ONLY=engine-killed,...) -> table, results/faults.json
	@$(TESTBED) faults $(TOPOLOGY) $(if $(ONLY),--only $(ONLY)) $(mpi_arg) --out $(OUT)

run: images ## run the lecture's MPI program PROGRAM (hello, collectives, ...) with NP ranks, checked
	@$(TESTBED) run $(TOPOLOGY) $(PROGRAM) $(name_arg) $(if $(NP),-n $(NP)) $(mpi_arg) $(swarm_arg) $(user_arg)

status: venv ## running clusters and their engines
	@$(TESTBED) status $(if $(SWARM),--swarm)

clean: ## remove every container, network and volume labelled ipp-testbed.cluster
	@if [ -x $(TESTBED) ]; then $(TESTBED) clean; else \
	  docker ps -aq --filter label=ipp-testbed.cluster | xargs -r docker rm -f >/dev/null; \
	  docker network ls -q --filter label=ipp-testbed.cluster | xargs -r docker network rm >/dev/null; \
	  docker volume ls -q --filter label=ipp-testbed.cluster | xargs -r docker volume rm -f >/dev/null; \
	  echo "removed labelled resources"; fi

reproduce: images ## every lecture experiment beside the lecture's figures: OUT/report.{md,html}, results.json (ONLY=L1,L3 MPI=all)
	@$(TESTBED) reproduce --out $(OUT) $(if $(ONLY),--only $(ONLY)) $(mpi_arg)

bench: images ## benchmarks: testbed vs bare-host ipyparallel/MPI -> benchmarks/results/ (BENCH=bringup,tasks RUNS=5)
	@$(VENV)/bin/python -m benchmarks.run --runs $(RUNS) $(if $(BENCH),--only $(BENCH)) $(mpi_arg) $(BENCH_ARGS)
	@$(VENV)/bin/python -m benchmarks.figures render

figures: venv ## rewrite the measured figures in README.md and docs/ from benchmarks/results/ (docs/figures.md)
	@$(VENV)/bin/python -m benchmarks.figures render

images-all: venv compose ## the node images of every MPI stack (openmpi4, openmpi5, mpich)
	@$(TESTBED) images --mpi all

lab-image: images ## the lab image of MPI: JupyterLab and notebooks/ on the node image (`notebook` builds it itself)
	@$(TESTBED) images --lab $(mpi_arg)

hosts: images ## the host matrix: the README's commands from a fresh clone on each kind of host (ROWS=1,4 STEPS=reproduce) -> docs/hosts.md
	@$(TESTBED) hosts-matrix $(if $(ROWS),--rows $(ROWS)) $(if $(STEPS),--steps $(STEPS))

host-up: images ## a test host in a container: KIND=docker26|docker20|podman5|podman4 (docs/hosts.md)
	@$(TESTBED) host up $(KIND) $(if $(MPI),--mpi $(MPI))

host-down: venv ## remove the test host of KIND
	@$(TESTBED) host down $(KIND)

swarm-dind: images ## a swarm of HOSTS Docker hosts in containers on this machine (Docker-in-Docker; docs/swarm.md)
	@$(TESTBED) dind up --hosts $(HOSTS) $(if $(MPI),--mpi $(MPI)) $(name_arg)

swarm-dind-down: venv ## remove the Docker-in-Docker swarm (run with DOCKER_HOST unset)
	@$(TESTBED) dind down $(name_arg)

browser: venv ## a Chromium for the notebooks' browser test (Debian's with apt as root, else Playwright's; nothing when present)
	@PLAYWRIGHT=$(VENV)/bin/playwright bash docker/install-chromium.sh

test: images-all lab-image ## the everyday tier: unit tests + an integration core (no root, no swarm; docs/testing.md)
	@$(PYTEST) -m "$(CORE)" --durations=15 $(PYTEST_ARGS)

test-all: images-all lab-image browser ## everything but the scenarios: every stack, Swarm, Docker-in-Docker, faults, 128 engines, the browser (CI)
	@$(PYTEST) -m "not scenarios" --durations=25 $(PYTEST_ARGS)

test-scenarios: images ## every known-failure scenario on a fresh cluster each (docs/scenarios.md; about 25 min)
	@$(PYTEST) tests/integration/test_scenarios.py --durations=15 $(PYTEST_ARGS)

test-unit: venv ## unit tests only (no Docker)
	@$(PYTEST) tests/unit $(PYTEST_ARGS)

test-integration: images-all lab-image ## the everyday tier's integration tests only (Docker)
	@$(PYTEST) tests/integration -m "$(CORE)" --durations=15 $(PYTEST_ARGS)

lint: venv ## ruff: the checks, and the one formatter (ruff format; the lecture's programs keep their layout)
	@$(VENV)/bin/ruff check testbed tests workloads benchmarks examples
	@$(VENV)/bin/ruff format --check testbed tests workloads benchmarks examples
