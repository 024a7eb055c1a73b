"""What carries a training run to a GPU machine and back (bench/gpu_training.py): the weights in fp16 with only the
token rows used, the parts the device tool brings back, and the check that a returned model learnt from this run's
inputs."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from vitrina.learn.tuning.pairs import PairSet, TrainingPair

pytest.importorskip("torch", reason="the `torch` extra is not installed")


@pytest.fixture(scope="module")
def gpu_training():
    path = Path(__file__).parents[1] / "bench" / "gpu_training.py"
    spec = importlib.util.spec_from_file_location("gpu_training", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_training"] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules["gpu_training"]


@pytest.fixture(scope="module")
def base() -> Path:
    from vitrina.learn.tuning.train import default_base

    return Path(default_base())


def _tensors(folder: Path):
    from safetensors.torch import load_file

    return load_file(str(folder / "model.safetensors"))


def test_weights_travel_in_fp16_with_the_used_rows_and_come_back_with_the_bases_others(gpu_training, base, tmp_path):
    rows = np.array([*range(104), 2000, 7592])  # the special tokens and two words
    gpu_training.pack_weights(base, rows, tmp_path / "packed")
    packed = (tmp_path / "packed" / "compact.safetensors").stat().st_size
    assert packed < 0.3 * (base / "model.safetensors").stat().st_size  # fp16, 106 of 30,522 rows
    assert (tmp_path / "packed" / "tokenizer.json").exists() and not (tmp_path / "packed" / "model.safetensors").exists()

    gpu_training.unpack_weights(tmp_path / "packed", tmp_path / "there", None)  # on the GPU machine: zeros elsewhere
    gpu_training.unpack_weights(tmp_path / "packed", tmp_path / "here", base / "model.safetensors")
    original, there, here = _tensors(base), _tensors(tmp_path / "there"), _tensors(tmp_path / "here")
    assert original.keys() == there.keys() == here.keys()
    name = "embeddings.word_embeddings.weight"
    assert there[name].shape == original[name].shape and float(there[name][5000].abs().sum()) == 0.0
    assert bool((here[name][5000] == original[name][5000]).all())  # a row never carried is the base's, exactly
    for key, tensor in original.items():
        assert here[key].dtype == tensor.dtype  # fp32 again
        scale = float(tensor.abs().max()) or 1.0
        assert float((here[key] - tensor).abs().max()) <= 1e-3 * scale  # fp16 rounding, no more


def test_the_parts_brought_back_join_to_the_same_folder(gpu_training, tmp_path, monkeypatch):
    folder = tmp_path / "made"
    folder.mkdir()
    (folder / "meta.json").write_text(json.dumps({"a": 1}))
    (folder / "blob.bin").write_bytes(bytes(range(256)) * 40)
    monkeypatch.setattr(gpu_training, "PART_BYTES", 4096)
    out = tmp_path / "out"
    out.mkdir()
    parts = gpu_training.split_tar(folder, out, "model")
    assert len(parts) >= 3 and all((out / p).stat().st_size <= 4096 for p in parts)
    shutil.move(out / parts[1], out / "aside")  # a part missing: no folder made of the rest
    with pytest.raises(SystemExit, match="missing"):
        gpu_training.join_tar(out, "model", tmp_path)
    assert not (tmp_path / "model").exists()
    shutil.move(out / "aside", out / parts[1])
    joined = gpu_training.join_tar(out, "model", tmp_path)
    assert (joined / "blob.bin").read_bytes() == (folder / "blob.bin").read_bytes()


def test_a_returned_model_is_refused_by_a_run_with_other_inputs(gpu_training, base, tmp_path):
    from vitrina.config import TuningSettings
    from vitrina.learn.tuning.finetune import FineTuneReport

    pairs = PairSet(pairs=[TrainingPair(query="cordless drill", product_id="p1", weight=3, source="qrels")])
    texts = {"p1": "DEWALT 20V cordless drill", "p2": "LED bulb"}
    folder = tmp_path / "back"
    gpu_training.pack_weights(base, np.arange(104), folder / "packed")
    report = FineTuneReport(examples=1, with_hard_negative=0, seconds=1.0, device="cuda", precision="fp16", steps=1)
    (folder / "meta.json").write_text(json.dumps({
        "report": report.model_dump(mode="json"), "digest": gpu_training.inputs_digest(pairs, texts.get, None),
        "environment": "a GPU", "variant": "default", "settings": TuningSettings(epochs=2).model_dump(mode="json")}))
    returned = tmp_path / "returned"
    returned.mkdir()
    gpu_training.split_tar(folder, returned, "encoder")

    tune, settings = gpu_training.trained_elsewhere(returned, "encoder")
    assert settings.epochs == 2  # the run here takes the settings it was trained with
    other = {**texts, "p1": "DEWALT 18V cordless drill"}  # one product's text changed since
    with pytest.raises(SystemExit, match="other inputs"):
        tune(str(base), pairs, other.get, tmp_path / "refused", settings, print)
    assert not (tmp_path / "refused").exists()
    assert tune(str(base), pairs, texts.get, tmp_path / "model", settings, print) == report
    assert (tmp_path / "model" / "model.safetensors").exists() and (tmp_path / "model" / "tokenizer.json").exists()
