"""Model files: weights in safetensors (no pickle) with the model config in its metadata, plus a YAML copy
beside it for people to read. Shipped models are found by name in `snn_codec/pretrained/`."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import torch
import yaml
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from safetensors import safe_open

from snn_codec.audio import make_readable
from snn_codec.codec import Codec
from snn_codec.config import ModelConfig, from_dict, to_dict, validate_model_config
from snn_codec.errors import CodecError, ConfigError

PRETRAINED_DIR = Path(__file__).parent / "pretrained"
DEFAULT_MODEL = "piano-v6"


def shipped_models() -> list[str]:
    """Names of the models that ship inside the package."""
    return sorted(p.stem for p in PRETRAINED_DIR.glob("*.safetensors"))


def shipped_config(name: str) -> ModelConfig | None:
    """The config of a shipped model (read from its YAML, without loading weights), or None."""
    path = PRETRAINED_DIR / f"{name}.yaml"
    if name not in shipped_models() or not path.is_file():
        return None
    return from_dict(ModelConfig, yaml.safe_load(path.read_text()), str(path))


def model_card_summary(name: str) -> str:
    """The first paragraph of a shipped model's card (`pretrained/NAME.md`) on one line; "" without a card."""
    path = PRETRAINED_DIR / f"{name}.md"
    if name not in shipped_models() or not path.is_file():
        return ""
    paragraphs = [" ".join(block.split()) for block in path.read_text().split("\n\n")]
    return next((text for text in paragraphs if text and not text.startswith("#")), "")


HALF_PARTS = {None: (), "decoder": ("decoder.",), "networks": ("encoder.", "decoder.")}  # save_model's `half`


def save_model(codec: Codec, path: str | os.PathLike, half: str | None = None) -> Path:
    """Writes `path` (.safetensors) and the config beside it (.yaml). Returns the weights path.

    `half` stores floating-point weights as float16: "decoder" the decoder's (the bulk of the file, and
    the events stay those of the float32 model), "networks" the encoder's as well (the events then come
    from the rounded encoder: a few currents near the threshold change side; measure the saved model).
    They load back as float32, so the model that runs (and its weight hash) is the rounded one. The
    bottleneck always stays float32: the events depend on the sign of its BatchNorm outputs.

    The model is saved under its config's name, unless that is a shipped model's name and the weights are
    not that model's: then the name gets the first 8 hex digits of the weight hash (`piano-v3-1a2b3c4d`),
    so that files it writes never pass for the shipped model's.
    """
    if half not in HALF_PARTS:
        raise CodecError(f"half: unknown {half!r}; choose from {list(HALF_PARTS)}")
    path = Path(path).with_suffix(".safetensors")
    tensors = {}
    for name, tensor in codec.state_dict().items():
        tensor = tensor.detach().cpu().contiguous()
        rounded = tensor.is_floating_point() and name.startswith(HALF_PARTS[half])
        tensors[name] = tensor.half() if rounded else tensor
    config = replace(codec.config, name=_own_name(codec, tensors))
    config_text = yaml.safe_dump(to_dict(config), sort_keys=False)
    tmp = path.with_suffix(".safetensors.part")
    save_file(tensors, str(tmp), metadata={"format": "snn_codec", "config": config_text})
    make_readable(tmp)
    os.replace(tmp, path)
    path.with_suffix(".yaml").write_text(config_text)
    return path


def _own_name(codec: Codec, tensors: dict[str, torch.Tensor]) -> str:
    """The name to save `codec` under, with `tensors` as its stored weights (see `save_model`)."""
    name = codec.config.name
    if name not in shipped_models():
        return name
    stored = copy.deepcopy(codec)
    stored.load_state_dict(tensors)  # float16 weights come back as they will load
    weight_hash = stored.weight_hash()
    return name if load_model(name).weight_hash() == weight_hash else f"{name}-{weight_hash.hex()[:8]}"


def model_name(path: str | os.PathLike) -> str | None:
    """The name in a model file's metadata (read without loading the weights), or None if it has none."""
    try:
        with safe_open(str(path), framework="pt") as handle:
            config = yaml.safe_load((handle.metadata() or {}).get("config", ""))
    except (SafetensorError, OSError, ValueError, yaml.YAMLError):
        return None
    return config.get("name") if isinstance(config, dict) else None


def find_model(name: str, weight_hash: bytes, folders: Iterable[str | os.PathLike] = ()) -> Codec | None:
    """The model named `name` with these weights, loaded from where trained models are kept: the
    .safetensors files in `folders`, in the current folder and in runs/*/ (`snn-codec train` writes
    runs/NAME/model.safetensors). None if there is none."""
    places = [*map(Path, folders), Path("."), *sorted(Path("runs").glob("*/"))]
    seen = set()
    for folder in places:
        for path in sorted(folder.glob("*.safetensors")) if folder.is_dir() else []:
            if path.resolve() in seen or model_name(path) != name:
                continue
            seen.add(path.resolve())
            try:
                codec = load_model(path)
            except CodecError:
                continue
            if codec.weight_hash() == weight_hash:
                return codec
    return None


def resolve_model_path(name_or_path: str | os.PathLike) -> Path:
    candidate = Path(name_or_path)
    if candidate.suffix == ".safetensors" or candidate.exists():
        if candidate.is_dir():
            candidate = candidate / "model.safetensors"
        if not candidate.is_file():
            raise CodecError(f"{candidate}: model file not found")
        return candidate
    shipped = PRETRAINED_DIR / f"{name_or_path}.safetensors"
    if shipped.is_file():
        return shipped
    raise CodecError(
        f"unknown model {str(name_or_path)!r}; shipped models: {shipped_models()}, "
        "or pass the path of a .safetensors file written by `snn-codec train`"
    )


def load_model(name_or_path: str | os.PathLike = DEFAULT_MODEL) -> Codec:
    """Loads a shipped model by name, or a trained model from its .safetensors path (or run folder).

    The model is returned in eval mode, on the CPU.
    """
    path = resolve_model_path(name_or_path)
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise CodecError(f"{path}: not a readable model file: {err}") from None
    if metadata.get("format") != "snn_codec" or "config" not in metadata:
        raise CodecError(f"{path}: not an snn_codec model (no config in its metadata)")
    try:
        config = from_dict(ModelConfig, yaml.safe_load(metadata["config"]), f"{path} config")
        validate_model_config(config)
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: invalid config metadata: {err}") from None
    codec = Codec(config)
    missing, unexpected = codec.load_state_dict(tensors, strict=False)
    if missing or unexpected:
        raise CodecError(f"{path}: weights do not match the config (missing {missing[:3]}, unexpected {unexpected[:3]})")
    return codec.eval()
