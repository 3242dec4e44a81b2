# Two commands for a new user:
#   make demo   installs everything, then compresses and decompresses the bundled piano clip
#   make test   installs the test dependencies, then runs the test suite (CI runs this)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test corpus train bench bench-bottlenecks bench-quality bench-speed bench-simulators clean

$(STAMP): pyproject.toml scripts/install_system_deps.sh
	bash scripts/install_system_deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0            # the local CPU build; must come first
	$(BIN)/pip install -q --no-deps norse==1.1.0   # --no-deps: norse would pull a CUDA torch
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/snn-codec demo --out demo_output

test: install
	$(BIN)/python -m pytest tests

# docs/training.md's default recipe: the corpus of the default model, then its recipe (runs/piano-v3/).
corpus: install
	$(BIN)/snn-codec data synth-piano --out data/piano-multi --pieces 300

train: corpus
	$(BIN)/snn-codec train --config configs/piano-v3.yaml

VQ_BASELINES := piano-vq-0.5k piano-rvq-1.5k piano-rvq-3k

# The rate-distortion sweep (trains its points once: about 1 h on 2 CPU cores), then the comparison with
# the VQ-VAE baselines it trained, classical codecs and the neural speed peers.
bench: install
	bash benchmarks/setup.sh
	$(BIN)/snn-codec data synth-piano --out data/piano-multi --pieces 300
	$(BIN)/python benchmarks/rd_sweep.py
	$(BIN)/python benchmarks/target_bitrate.py
	$(BIN)/python benchmarks/run.py $(foreach m,$(VQ_BASELINES),--model runs/rd/$(m)/model.safetensors)

# Every bottleneck trained from scratch with the same budget, 3 rates x 3 seeds (docs/bottlenecks.md):
# about 7 hours on 2 cores; resumable (rerun to continue; the committed records in
# benchmarks/results/bottlenecks-runs/ are not trained again).
bench-bottlenecks: install
	bash benchmarks/setup.sh
	$(BIN)/snn-codec data synth-piano --out data/piano-multi --pieces 300
	$(BIN)/python benchmarks/bottlenecks.py

# The quality experiment of docs/quality.md: the unquantized ceiling, its spiking control, piano-v4 and
# piano-v4-3k (each 1000 steps from a shipped model, the control 500; about 3 h in all on 2 CPU cores,
# resumable), then benchmarks/ceiling.py on MuseScore General piano.
bench-quality: install
	bash benchmarks/setup.sh
	$(BIN)/snn-codec data synth-piano --out data/piano-multi --pieces 300
	$(BIN)/snn-codec train --config configs/piano-ceiling.yaml --run-dir runs/piano-ceiling
	$(BIN)/snn-codec train --config configs/piano-control.yaml --run-dir runs/piano-control --max-steps 500
	$(BIN)/snn-codec train --config configs/piano-v4.yaml --run-dir runs/piano-v4
	$(BIN)/snn-codec train --config configs/piano-v4-3k.yaml --run-dir runs/piano-v4-3k
	$(BIN)/python benchmarks/ceiling.py --ceiling runs/piano-ceiling/model.safetensors --model piano-v3 \
	    --model piano-v3-3k --model runs/piano-control/model.safetensors \
	    --model runs/piano-v4/model.safetensors --model runs/piano-v4-3k/model.safetensors

# docs/speed.md: the default model against Opus 6, codec2 1200 and EnCodec's architecture on the same
# audio, 1 thread and all, and the command line's start-up (a few minutes).
bench-speed: install
	bash benchmarks/setup.sh
	$(BIN)/python benchmarks/speed.py

# docs/nir.md: the NIR graphs of piano-v3 and of its LIF variants run by Norse, snnTorch, Rockpool, Sinabs
# and Spyx (each in its own .venvs/NAME, built by scripts/simulators.sh), compared spike for spike with
# ours (a few minutes, plus the first build of the environments).
bench-simulators: install
	bash benchmarks/setup.sh
	bash scripts/simulators.sh
	$(BIN)/python benchmarks/simulators.py

clean:
	rm -rf $(VENV) demo_output
