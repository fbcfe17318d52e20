"""Missing, corrupt and unknown model folders give one clear error naming the problem."""

from __future__ import annotations

import json

import pytest

from generator import ModelLoadError, ModelNotFoundError, load_generator

from .tiny import cogvideox


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cog") / "model"
    pipe, _ = cogvideox(folder.parent)
    pipe.save_pretrained(folder)
    return folder


def test_missing_folder(tmp_path):
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        load_generator(tmp_path / "nope")


def test_folder_without_model_index(tmp_path):
    with pytest.raises(ModelNotFoundError, match="no model_index.json"):
        load_generator(tmp_path)


def test_hub_id_not_cached_offline():
    with pytest.raises(ModelNotFoundError, match="not in the local Hugging Face cache"):
        load_generator("reelguard-tests/no-such-model", local_files_only=True)


def test_corrupt_model_index(tmp_path):
    (tmp_path / "model_index.json").write_text("{not json")
    with pytest.raises(ModelLoadError, match="model_index.json is corrupt"):
        load_generator(tmp_path)


def test_unknown_pipeline_class(tmp_path):
    (tmp_path / "model_index.json").write_text(json.dumps({"_class_name": "NoSuchVideoPipeline"}))
    with pytest.raises(ModelLoadError, match="unknown pipeline class 'NoSuchVideoPipeline'"):
        load_generator(tmp_path)


def test_corrupt_weights(saved, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(saved, broken)
    weights = next((broken / "transformer").glob("*.safetensors"))
    weights.write_bytes(weights.read_bytes()[: 100])
    with pytest.raises(ModelLoadError, match="cannot load CogVideoXPipeline from"):
        load_generator(broken)


def test_missing_component_folder(saved, tmp_path):
    import shutil

    broken = tmp_path / "novae"
    shutil.copytree(saved, broken)
    shutil.rmtree(broken / "vae")
    with pytest.raises(ModelLoadError, match="cannot load CogVideoXPipeline"):
        load_generator(broken)


def test_unavailable_device():
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is present here")
    with pytest.raises(ModelLoadError, match="cannot move the pipeline to device 'cuda'"):
        load_generator(None, device="cuda")
