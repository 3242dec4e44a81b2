"""The same spikes in other simulators: our bottleneck's NIR graph run by other SNN simulators, spike for spike.

    python benchmarks/simulators.py [--simulators norse snntorch rockpool sinabs spyx] [--audio FILE ...]
                                    [--seconds 10] [--out benchmarks/results]

For each model (piano-v3, the shipped default, a threshold bottleneck; and piano-v3's encoder and
projection with a LIF and a current-based LIF neuron, built here), the encoder's latent frames of real
audio (the bundled example, a MuseScore General piano piece when benchmarks/setup.sh installed the
soundfont, and any --audio files, one after the other) are the graph's input. Each graph, the generic
export and the simulator's own target (`snn-codec export-nir --target`), is run by every simulator's
runner (benchmarks/simulators/run_NAME.py) in that simulator's environment (scripts/simulators.sh), with
and without the runner's adapters, and what comes back is compared with our events: it must be binary
and equal, and otherwise the flipped neuron-frames are counted and their cause given. A simulator that is
not installed is a row with the reason. Writes benchmarks/results/simulators.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, command_line, markdown_table, write_results  # noqa: E402

from snn_codec.bottlenecks import build_bottleneck  # noqa: E402
from snn_codec.bottlenecks.nir_export import bottleneck_to_nir  # noqa: E402
from snn_codec.bottlenecks.nir_readings import READINGS, read_graph  # noqa: E402
from snn_codec.errors import CodecError  # noqa: E402

ROOT = Path(__file__).parents[1]
RUNNERS = Path(__file__).parent / "simulators"
FRAME_S = 0.02
SNNTORCH_DT = 1e-4  # snnTorch's importer fixes its step at 1e-4 s
COLUMNS = ["model", "simulator", "version", "graph", "adapters", "node_types", "agreement", "cause"]


@dataclass(frozen=True)
class Simulator:
    name: str
    python: Path  # the interpreter of its environment
    adaptable: bool  # whether its runner has adapters (then it runs with and without)

    @property
    def runner(self) -> Path:
        return RUNNERS / f"run_{self.name}.py"

    def missing(self) -> str | None:
        """Why it cannot run here, or None."""
        if not self.python.exists():
            return f"not installed: {self.python.parent.parent} missing (run bash scripts/simulators.sh {self.name})"
        return None


def simulators(venvs: Path = ROOT / ".venvs") -> dict[str, Simulator]:
    main = Path(sys.executable)
    return {
        "norse": Simulator("norse", main, False),
        "snntorch": Simulator("snntorch", main, False),
        **{name: Simulator(name, venvs / name / "bin" / "python", True) for name in READINGS},
    }


@dataclass
class Case:
    """A bottleneck in eval mode, its input frames (T, C) and its events (T, N)."""

    model: str
    bottleneck: torch.nn.Module
    latent: np.ndarray
    events: np.ndarray


def compare(ours: np.ndarray, theirs: np.ndarray | None) -> dict[str, object]:
    """Spike-for-spike agreement of a simulator's output with our events, both (T, N).

    A simulator output that is not binary never agrees, even where `theirs > 0` equals our events: a
    dropped Threshold node passes the float current through, whose sign is our spikes.
    """
    if theirs is None:
        return {"exact": False, "agreement": "no output"}
    if theirs.shape != ours.shape:
        return {"exact": False, "agreement": f"wrong shape {list(theirs.shape)}, expected {list(ours.shape)}"}
    spikes = ours.astype(bool)
    flipped = int(((theirs > 0) != spikes).sum())
    result = {"exact": False, "binary": bool(np.isin(theirs, (0.0, 1.0)).all()), "flipped": flipped,
              "flipped_fraction": flipped / spikes.size, "our_spikes": int(spikes.sum()), "neuron_frames": spikes.size}
    if not result["binary"]:
        values = np.unique(theirs)
        kind = "spike counts" if np.all(values == np.round(values)) and values.min() >= 0 else "float values"
        result["agreement"] = f"not binary: {kind} up to {theirs.max():.4g} (where > 0: {flipped} flipped)"
        return result
    result["exact"] = flipped == 0
    result["agreement"] = (f"exact ({spikes.sum()} spikes)" if flipped == 0 else
                           f"{flipped} flipped of {spikes.size} neuron-frames ({100 * flipped / spikes.size:.2f} %; "
                           f"{spikes.sum()} spikes)")
    return result


RESET = {"rockpool": "Rockpool's LIFTorch", "sinabs": "Sinabs's LIF without the adapter", "spyx": "Spyx's LIF and CuBaLIF"}


def cause(sim: str, kind: str, target: str, adapted: bool, result: dict, report: dict) -> str:
    """Why a row is not exact, from the simulator's reading of the graph (snn_codec/bottlenecks/nir_readings.py)."""
    if result.get("exact"):
        return ""
    if "error" in report:
        return report["error"].splitlines()[0][:160]
    if "float values" in str(result.get("agreement")):
        dropped = report.get("dropped") or ["Threshold"]
        return f"the {' and '.join(dropped)} node was dropped on import: the float current comes out"
    reasons = []
    if not result.get("binary", True):
        reasons.append("several spikes per step (membrane / threshold)")
    if target == "generic" and (sim, kind) in (("spyx", "lif"), ("sinabs", "lif"), ("rockpool", "cuba")):
        reasons.append({"spyx": "the input gain folded into the affine is kept (Spyx adds the input unscaled)",
                        "sinabs": "tau read in time steps and the folded input gain kept",
                        "rockpool": "dt derived from tau and r, so the decays differ"}[sim])
    if sim == "spyx" and not adapted and kind != "threshold":
        reasons.append("output one step late")
    if sim in RESET and kind != "threshold" and not (sim == "sinabs" and adapted):
        reasons.append(f"subtractive reset ({RESET[sim]}: no reset to zero)")
    return "; ".join(reasons) or "see snn_codec/bottlenecks/nir_readings.py"


def targets_for(sim: str) -> list[str]:
    """The graphs a simulator is given: the generic export and its own target, if there is one."""
    return ["generic", "norse"] if sim in ("norse", "snntorch") else ["generic", sim]


def matches_reading(expected: np.ndarray, output: np.ndarray) -> bool:
    """Whether a simulator did what nir_readings.py says it does (float outputs to float32 precision)."""
    if expected.shape != output.shape:
        return False
    if np.array_equal(expected, output) or np.allclose(expected, output, rtol=1e-5, atol=1e-5):
        return True
    # spike counts of a vanishing threshold (about 1e30) differ in float32; where they are > 0 must not
    counts = not np.isin(output, (0.0, 1.0)).all() and np.all(output == np.round(output))
    return bool(counts and np.array_equal(expected > 0, output > 0))


def export(case: Case, sim: str, target: str, path: Path) -> None:
    import nir

    dt = SNNTORCH_DT if sim == "snntorch" else FRAME_S
    nir.write(path, bottleneck_to_nir(case.bottleneck, dt=dt, target=target))


def run_simulator(sim: Simulator, graph: Path, latent: Path, adapted: bool, work: Path) -> tuple[dict, np.ndarray | None]:
    """Runs a runner in its environment; its report and output (None when it failed)."""
    out, report_path = work / "output.npy", work / "report.json"
    for stale in (out, report_path):
        stale.unlink(missing_ok=True)
    dt = SNNTORCH_DT if sim.name == "snntorch" else FRAME_S
    command = [str(sim.python), str(sim.runner), str(graph), str(latent), str(out), str(report_path), "--dt", str(dt)]
    done = subprocess.run(command + (["--adapt"] if adapted else []), capture_output=True, text=True, cwd=RUNNERS)
    if not report_path.exists():
        return {"error": f"runner exited {done.returncode}: {done.stderr.strip()[-300:]}"}, None
    report = json.loads(report_path.read_text())
    return report, (np.load(out) if out.exists() and "error" not in report else None)


def rows_for(case: Case, sim: Simulator, work: Path) -> list[dict[str, object]]:
    kind = {"ThresholdBottleneck": "threshold", "SnnTorchSynaptic": "cuba"}.get(type(case.bottleneck).__name__, "lif")
    base = {"model": case.model, "simulator": sim.name}
    if (reason := sim.missing()) is not None:
        return [{**base, "version": "", "graph": "", "agreement": "not run", "cause": reason, "exact": False}]
    latent_path = work / f"{case.model}-latent.npy"
    np.save(latent_path, case.latent)
    rows = []
    for target in targets_for(sim.name):
        graph = work / f"{case.model}-{target}-{sim.name}.nir"
        try:
            export(case, sim.name, target, graph)
        except CodecError as err:
            rows.append({**base, "version": "", "graph": target, "agreement": "not exported", "cause": str(err),
                         "exact": False})
            continue
        for adapted in ([False, True] if sim.adaptable else [False]):
            report, output = run_simulator(sim, graph, latent_path, adapted, work)
            if adapted and report.get("adapters", []) == rows[-1].get("adapter_list"):
                continue  # no adapter applies to this graph: the same run again
            result = compare(case.events, output)
            if sim.name in READINGS and output is not None:
                import nir

                expected = read_graph(nir.read(graph), case.latent, sim.name, FRAME_S, adapted)
                result["matches_reading"] = matches_reading(expected, output)
            rows.append({
                **base, "version": report.get("version", ""), "graph": target,
                "adapters": "; ".join(report.get("adapters", [])) or "none",
                "node_types": " -> ".join(t for t in report.get("node_types", []) if t not in ("Input", "Output")),
                "adapter_list": report.get("adapters", []), "modules": report.get("modules", []), **result,
                "cause": cause(sim.name, kind, target, adapted, result, report),
                **({"error": report["error"]} if "error" in report else {}),
            })
            if "error" in report and not adapted:
                break  # the same import fails with adapters too
    return rows


def build_cases(samples: np.ndarray) -> list[Case]:
    """piano-v3's bottleneck, and its projection under a LIF and a current-based LIF (beta 0.8, alpha 0.5)."""
    import snn_codec

    codec = snn_codec.load_model("piano-v3")
    with torch.inference_mode():
        latent = torch.cat(list(codec.latent_stream([samples], len(samples))), dim=-1)  # (1, C, T)
    cases = [("piano-v3", codec.bottleneck)]
    for name, kind, options in [("piano-v3-lif", "snntorch_leaky", {"beta": 0.8}),
                                ("piano-v3-cuba", "snntorch_synaptic", {"alpha": 0.5, "beta": 0.8})]:
        neuron = build_bottleneck(kind, codec.config.latent_dim, units=codec.units, threshold=1.0, **options)
        neuron.project.load_state_dict(codec.bottleneck.project.state_dict())
        neuron.norm.load_state_dict(codec.bottleneck.norm.state_dict())
        cases.append((name, neuron))
    out = []
    for name, bottleneck in cases:
        bottleneck.eval()
        with torch.inference_mode():
            events = bottleneck(latent).events[0].T.numpy()  # (T, N)
        out.append(Case(name, bottleneck, latent[0].T.numpy().astype(np.float32), events))
    return out


def load_clips(audio: list[str], seconds: float) -> tuple[np.ndarray, list[str]]:
    """The bundled example, a MuseScore General piano piece if the soundfont is there, and `audio` files,
    mono at 24 kHz, each cut to `seconds`, one after the other."""
    import snn_codec
    from snn_codec.audio import load_audio, resample, to_mono

    rate = 24000
    clips, names = [], []
    for path in [snn_codec.EXAMPLE, *audio]:
        loaded = load_audio(path)
        clips.append(resample(to_mono(loaded.samples), loaded.sample_rate, rate)[0, : int(seconds * rate)])
        names.append(Path(path).name)
    try:
        from eval_set import piano_clip

        with tempfile.TemporaryDirectory() as tmp:
            clips.append(piano_clip(Path(tmp), 0, seconds, rate).samples)
        names.append("MuseScore General piano (seed 0)")
    except (CodecError, OSError) as err:
        print(f"no MuseScore General piano: {err}", file=sys.stderr)
    return np.concatenate(clips).astype(np.float32), names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--simulators", nargs="+", default=list(simulators()), choices=list(simulators()))
    parser.add_argument("--audio", nargs="*", default=[], help="more audio files")
    parser.add_argument("--seconds", type=float, default=10.0, help="of each clip")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    samples, clip_names = load_clips(args.audio, args.seconds)
    cases = build_cases(samples)
    available = simulators()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            for name in args.simulators:
                print(f"{case.model} in {name}", file=sys.stderr)
                rows += rows_for(case, available[name], Path(tmp))
    frames = len(cases[0].latent)
    intro = (f"Input: the encoder's latent frames of {', '.join(clip_names)} ({frames} frames, one after the other). "
             "`graph`: the generic export or the simulator's target (`snn-codec export-nir --target`); `adapters`: "
             "what the runner changed after import (benchmarks/simulators/). Agreement is exact only when the "
             "output is binary and equal to our events; flips are neuron-frames whose spike differs.")
    markdown = "\n".join([
        "# The same spikes in other simulators", "", command_line("simulators.py", argv), "", intro, "",
        markdown_table(rows, COLUMNS), ""])
    print(markdown)
    write_results("simulators", {"clips": clip_names, "frames": frames, "rows": rows}, markdown, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
