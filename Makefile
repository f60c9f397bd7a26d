# Two commands set everything up on a fresh machine with Python 3.11:
#   make demo   - create .venv, install nsreason with pinned deps, run the demo
#   make test   - same set-up, then the lint step, then the whole test suite
#   make lint   - ruff and mypy (rules, versions and settings in pyproject.toml)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

# Nothing is ever fetched from a model hub at run time.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

# torch is pinned in the same pip command as everything else: an unpinned torch pulls a
# 3 GB CUDA build here, torch==2.13.0 is the CPU wheel.
$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check \
		"torch==2.13.0" -e ".[torch,rich,progress,test,knowledge]"
	touch $(STAMP)

.PHONY: install demo lint test test-fast test-ci bench ranker fvqa-heldout parser parser-finetune parser-continue humans-halves executor tree okvqa-model okvqa-heldout clean
install: $(STAMP)

demo: $(STAMP)
	$(PY) examples/demo.py

# mypy checks layers 0-1 (../shared/docs/DESIGN.md); the modules they import from other layers are read
# for their types only (follow_imports = "silent" in pyproject.toml).
MYPY_PATHS := nsreason/errors.py nsreason/registry.py nsreason/jsonio.py nsreason/limits.py \
	nsreason/__init__.py nsreason/program nsreason/scene nsreason/trace

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy $(MYPY_PATHS)

# Lint first: a lint failure stops the build before the tests run.
test: lint
	$(PY) -m pytest -q tests nsreason

# The fast lane: no test over 2 s, nothing from ../shared/data (under a minute here).
test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow and not data" tests nsreason

# The whole suite as CI runs it: hypothesis derandomized (the `ci` profile in tests/conftest.py,
# which CI gets from its CI=true), so a red CI run fails the same way here.
test-ci: $(STAMP)
	HYPOTHESIS_PROFILE=ci $(PY) -m pytest -q tests nsreason

bench: $(STAMP)
	$(PY) benchmarks/executor_throughput.py
	$(PY) benchmarks/scaling.py
	$(PY) benchmarks/parser.py

# Retrain the shipped FVQA fact ranker (nsreason/retrieve/weights/fvqa) on all split-0
# training questions, cluttered concepts, the default KB; --folds 5 first prints the
# cross-validated figures (folds of the images). About 10 minutes on one core.
# RANKER_OUT=nsreason/retrieve/weights/fvqa replaces the shipped one.
RANKER_OUT ?= build/ranker
ranker: $(STAMP)
	OMP_NUM_THREADS=1 $(VENV)/bin/nsreason train ranker \
		--questions $(SHARED)/fvqa/questions_train0.json \
		--concepts $(SHARED)/fvqa/concepts_train0_cluttered.json --folds 5 --out $(RANKER_OUT)

# The strict held-out FVQA figure: 5 seeded folds of the images, each answered through the
# full pipeline by a ranker fitted on the other folds only (about 15 minutes on one core).
fvqa-heldout: $(STAMP)
	OMP_NUM_THREADS=1 $(PY) benchmarks/fvqa_heldout.py --folds 5 --seed 0

# Retrain the shipped question parser from ../shared/data (about two hours on 2 CPU cores):
# the supervised run, then answer-only fine-tuning on the CLEVR-Humans questions, then
# continued training on CLEVR-Ref+ expressions (below), then the checksums a test checks. PARSER_OUT=nsreason/parse/weights/clevr replaces the shipped one.
SHARED     ?= ../shared/data
PARSER_OUT ?= build/parser
# The answer-only fine-tuning of the shipped parser (MML, the first 4,000 official and 4,000
# grown pairs, 4,000 of them replayed a round, one thread), shared by `parser`,
# `parser-finetune` and `humans-halves`; add --parser, --out and, for a half, --images.
# The FINETUNE_* variables reproduce the recipes compared in docs/parser.md;
# FINETUNE_ROUNDS=1 only for a quick check of the commands.
FINETUNE_ROUNDS           ?= 5
FINETUNE_REPLAY_PER_ROUND ?= 4000
FINETUNE_THREADS          ?= 1
FINETUNE_REPLAY           ?= $(SHARED)/clevr/train/CLEVR_train_questions.json $(PARSER_OUT).replay.json
FINETUNE = $(VENV)/bin/nsreason train finetune \
	--questions $(SHARED)/clevr-humans/CLEVR-Humans_train_questions.json \
	--scenes $(SHARED)/clevr-humans/CLEVR_train_scenes_1000.json \
	--replay $(FINETUNE_REPLAY) --replay-limit 4000 --replay-per-round $(FINETUNE_REPLAY_PER_ROUND) \
	--objective mml --rounds $(FINETUNE_ROUNDS) --epochs-per-round 3 --seed 0 --threads $(FINETUNE_THREADS)
REPLAY = $(VENV)/bin/python -m nsreason.datasets.clevr.augment \
	--scenes $(SHARED)/clevr/train/CLEVR_train_scenes.json \
	--out $(PARSER_OUT).replay.json --per-scene 1 --seed 7
NEEDS_SUPERVISED = @test -d $(PARSER_OUT).supervised || { \
	echo "no $(PARSER_OUT).supervised: run 'make parser' (its first step makes it; not shipped)"; exit 1; }

# The third step of `parser`: continued supervised training that teaches the parser CLEVR-Ref+
# referring expressions (the val expressions of CONTINUE_IMAGES: all for the shipped parser;
# even or odd for the held-out halves of docs/parser.md; each with 12 value-swapped copies)
# and attributes joined to spatial relations ("the cube that is
# metal and left of the sphere", "how many things are red and behind the ball": 8,000 grown
# questions with joined clauses and 6,000 from the official templates with an attribute moved
# into a predicate, on the train scenes), replaying CLEVR train questions, grown ones and its
# own right programs for the CLEVR-Humans questions (nsreason.train.supervised; about 40
# minutes on 2 CPU cores).
CONTINUE_IMAGES ?= all
CONTINUE_OUT    ?= $(PARSER_OUT)
JOINED = $(VENV)/bin/python -m nsreason.datasets.clevr.augment \
	--scenes $(SHARED)/clevr/train/CLEVR_train_scenes.json \
	--out $(PARSER_OUT).joined.json --per-scene 4 --clauses joined-only --seed 11
PREDICATES = $(VENV)/bin/python -m nsreason.datasets.clevr.augment \
	--scenes $(SHARED)/clevr/train/CLEVR_train_scenes.json \
	--out $(PARSER_OUT).predicates.json --per-scene 3 --predicates --seed 12
GROWN2 = $(VENV)/bin/python -m nsreason.datasets.clevr.augment \
	--scenes $(SHARED)/clevr/train/CLEVR_train_scenes.json \
	--out $(PARSER_OUT).grown2.json --per-scene 2 --seed 13
CONTINUE = $(VENV)/bin/nsreason train supervised \
	--refexps $(SHARED)/clevr-ref+/CLEVR-Ref+_val_refexps.json --images $(CONTINUE_IMAGES) --swaps 12 \
	--replay $(SHARED)/clevr/train/CLEVR_train_questions.json $(PARSER_OUT).replay.json \
	$(PARSER_OUT).joined.json $(PARSER_OUT).predicates.json $(PARSER_OUT).grown2.json \
	--replay-limit 10000 --replay-answered $(SHARED)/clevr-humans/CLEVR-Humans_train_questions.json \
	--replay-scenes $(SHARED)/clevr-humans/CLEVR_train_scenes_1000.json --epochs 10 --lr 1e-3 --seed 0 --threads 2

parser: $(STAMP)
	$(VENV)/bin/nsreason train parser --questions $(SHARED)/clevr/train/CLEVR_train_questions.json \
		--generate-scenes $(SHARED)/clevr/train/CLEVR_train_scenes.json --generate-per-scene 40 \
		--grow-per-scene 15 --epochs 8 --batch-size 128 --lr 1.5e-3 --seed 0 --threads 2 \
		--out $(PARSER_OUT).supervised
	$(REPLAY)
	$(FINETUNE) --parser $(PARSER_OUT).supervised --out $(PARSER_OUT).finetuned
	$(JOINED)
	$(PREDICATES)
	$(GROWN2)
	$(CONTINUE) --parser $(PARSER_OUT).finetuned --out $(PARSER_OUT)
	cd $(PARSER_OUT) && sha256sum config.json model.safetensors tokenizer.json words.json > SHA256SUMS

# The fine-tuning step of `parser` alone, from its supervised checkpoint (about 8 minutes).
parser-finetune: $(STAMP)
	$(NEEDS_SUPERVISED)
	test -f $(PARSER_OUT).replay.json || $(REPLAY)
	$(FINETUNE) --parser $(PARSER_OUT).supervised --out $(PARSER_OUT).finetuned

# The continued training step of `parser` alone, from its fine-tuned checkpoint (the shipped
# parser before this step is commit ac4c015's nsreason/parse/weights/clevr). The held-out
# halves: CONTINUE_IMAGES=even CONTINUE_OUT=build/parser.refexp-even (scored on the odd
# expressions by benchmarks/refexp.py --parser build/parser.refexp-even --images odd), and odd.
parser-continue: $(STAMP)
	@test -d $(PARSER_OUT).finetuned || { echo "no $(PARSER_OUT).finetuned: run 'make parser-finetune'"; exit 1; }
	test -f $(PARSER_OUT).replay.json || $(REPLAY)
	test -f $(PARSER_OUT).joined.json || $(JOINED)
	test -f $(PARSER_OUT).predicates.json || $(PREDICATES)
	test -f $(PARSER_OUT).grown2.json || $(GROWN2)
	$(CONTINUE) --parser $(PARSER_OUT).finetuned --out $(CONTINUE_OUT)
	cd $(CONTINUE_OUT) && sha256sum config.json model.safetensors tokenizer.json words.json > SHA256SUMS

# The CLEVR-Humans held-out halves (docs/parser.md): the fine-tuning step of `parser`, from
# the same supervised checkpoint, on the questions of even images only and of odd images
# only, each parser then scored on the other half's questions (benchmarks/humans_halves.py).
# About 15 minutes.
humans-halves: $(STAMP)
	$(NEEDS_SUPERVISED)
	test -f $(PARSER_OUT).replay.json || $(REPLAY)
	$(FINETUNE) --parser $(PARSER_OUT).supervised --images even --out $(PARSER_OUT).even
	$(FINETUNE) --parser $(PARSER_OUT).supervised --images odd --out $(PARSER_OUT).odd
	$(PY) benchmarks/humans_halves.py --even $(PARSER_OUT).even --odd $(PARSER_OUT).odd

# Retrain the shipped neural executor (nsreason/execute/weights/neural) from ../shared/data: 1,000
# steps of 128 CLEVR train questions on noisy copies of their scenes, seed 0 (about 15 minutes on
# one CPU thread; a GPU is used when present). EXECUTOR_OUT=nsreason/execute/weights/neural
# replaces the shipped one; the checksums a test checks follow.
EXECUTOR_OUT ?= build/executor
executor: $(STAMP)
	$(VENV)/bin/nsreason train executor --scenes $(SHARED)/clevr/train/CLEVR_train_scenes.json \
		--questions $(SHARED)/clevr/train/CLEVR_train_questions_generator.json \
		--steps 1000 --batch-size 128 --seed 0 --threads 1 --out $(EXECUTOR_OUT)
	cd $(EXECUTOR_OUT) && sha256sum config.json model.safetensors > SHA256SUMS

# Retrain the shipped syntax-tree grounder (nsreason/parse/weights/tree) on the CLEVR-Ref+
# expressions of the even image_index val scenes (the odd ones are held out and measured;
# about 2 minutes on one CPU thread). TREE_OUT=nsreason/parse/weights/tree replaces the
# shipped one; the checksums a test checks follow.
TREE_OUT ?= build/tree
tree: $(STAMP)
	$(VENV)/bin/nsreason train tree --scenes $(SHARED)/clevr-ref+/CLEVR-Ref+_val_scenes.json \
		--refexps $(SHARED)/clevr-ref+/CLEVR-Ref+_val_refexps.json --images even \
		--epochs 20 --seed 0 --threads 1 --out $(TREE_OUT)
	cd $(TREE_OUT) && sha256sum config.json model.safetensors > SHA256SUMS

# The OK-VQA answer model a user would use on OK-VQA val (whose images have ImageNet labels
# only): `kb-without-kb` fitted once on all 9,009 train questions with their ImageNet labels
# (about 10 minutes on 2 CPU cores, a cold embedding cache), saved as safetensors + JSON in
# $(OKVQA_OUT) (about 60 MB: not shipped, a build product). Use it with
# `nsreason eval okvqa --model $(OKVQA_OUT) ...` or `Reasoner(okvqa_model="$(OKVQA_OUT)")`.
# OKVQA_ANSWERER=kb adds the default KB's candidates (retrieval: about 3 hours cold).
OKVQA_OUT      ?= build/okvqa-model
OKVQA_ANSWERER ?= kb-without-kb
okvqa-model: $(STAMP)
	$(VENV)/bin/nsreason train okvqa --questions $(SHARED)/okvqa/questions_train.json \
		--answers $(SHARED)/okvqa/answers_train.json \
		--detections $(SHARED)/okvqa/detected_imagenet_objects.json \
		--answerer $(OKVQA_ANSWERER) --seed 0 --out $(OKVQA_OUT)

# Its held-out figure: trained on 80% of the train images, evaluated with --model on the other
# 20%, the answer priors beside it (docs/knowledge.md, benchmarks/README.md).
okvqa-heldout: $(STAMP)
	nice -n 5 $(PY) benchmarks/okvqa_model.py --answerer $(OKVQA_ANSWERER)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
