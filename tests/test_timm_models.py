"""``timm:NAME`` (issue 15): timm models as encoders, weights read only from the local Hugging Face
cache. Skipped with the reason where timm does not import (it needs torchvision: the vision extra,
``make install-vision``)."""

from __future__ import annotations

import numpy as np
import pytest

from transferscope.errors import InputError
from transferscope.extraction.timm_models import parse_timm_spec


def test_spec_parsing_names_what_is_wrong():
    assert parse_timm_spec("timm:resnet18.a1_in1k") == ("resnet18.a1_in1k", True)
    assert parse_timm_spec("timm:resnet18:none") == ("resnet18", False)
    with pytest.raises(InputError, match="timm:NAME"):
        parse_timm_spec("timm:")
    with pytest.raises(InputError, match="only weights option"):
        parse_timm_spec("timm:resnet18:imagenet")


def _images(n=4):
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, size=(40, 48, 3), dtype=np.uint8) for _ in range(n)]


@pytest.fixture
def hf_cache(tmp_path, monkeypatch):
    pytest.importorskip("timm", reason="timm needs torchvision (make install-vision)")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    return tmp_path / "hub"


def test_random_weights_give_stages_penultimate_and_head(hf_cache):
    from transferscope.extraction.specs import build_encoder

    enc = build_encoder("timm:resnet18:none")
    assert enc.layer_names() == ["act1", "layer1", "layer2", "layer3", "layer4", "penultimate"]
    out = enc.encode(_images(), layers=["layer2", "penultimate", "head"], poolings=["mean"])
    assert out[("penultimate", "none")].shape == (4, 512) and out[("head", "softmax")].shape == (4, 1000)
    np.testing.assert_allclose(out[("head", "softmax")].sum(axis=1), 1.0, rtol=1e-5)
    again = build_encoder("timm:resnet18:none")
    assert again.identity() == enc.identity()  # seeded: the same weights, the same cache key


def test_pretrained_weights_come_from_the_local_cache_only(hf_cache):
    import timm
    import torch
    from PIL import Image
    from safetensors.torch import save_file

    from transferscope.extraction.specs import build_encoder

    with pytest.raises(InputError, match="not in the local Hugging Face cache"):
        build_encoder("timm:resnet18.a1_in1k")
    # put "pretrained" weights where huggingface_hub keeps them
    torch.manual_seed(3)
    reference = timm.create_model("resnet18.a1_in1k", pretrained=False).eval()
    snapshot = hf_cache / "models--timm--resnet18.a1_in1k" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (hf_cache / "models--timm--resnet18.a1_in1k" / "refs").mkdir()
    (hf_cache / "models--timm--resnet18.a1_in1k" / "refs" / "main").write_text("abc123")
    save_file({k: v.contiguous() for k, v in reference.state_dict().items()}, str(snapshot / "model.safetensors"))
    enc = build_encoder("timm:resnet18.a1_in1k")
    assert enc.identity()["weights_sha256"] and enc.checkpoint.name == "model.safetensors"
    images = _images(2)
    feats = enc.encode(images, layers=["head"], poolings=["mean"])[("head", "softmax")]
    batch = torch.stack([enc.transform(Image.fromarray(i)) for i in images])
    with torch.no_grad():
        expected = torch.softmax(reference(batch), dim=1).numpy()
    np.testing.assert_allclose(feats, expected, rtol=1e-4, atol=1e-6)


def test_missing_timm_is_one_clear_message():
    try:
        import timm  # noqa: F401
    except ImportError:
        from transferscope.errors import MissingExtraError
        from transferscope.extraction.specs import build_encoder

        with pytest.raises(MissingExtraError, match="timm"):
            build_encoder("timm:resnet18:none")
    else:
        pytest.skip("timm imports here: the missing-package message cannot be shown")
