"""``open_clip:ARCH:TAG`` (issue 15): OpenCLIP image towers as encoders, weights read only from the
local Hugging Face cache. Skipped with the reason where open_clip does not import (it needs
torchvision: the vision extra, ``make install-vision``)."""

from __future__ import annotations

import numpy as np
import pytest

from transferscope.errors import InputError
from transferscope.extraction.open_clip_models import parse_open_clip_spec


def test_spec_parsing_names_what_is_wrong():
    assert parse_open_clip_spec("open_clip:ViT-B-32:openai") == ("ViT-B-32", "openai")
    assert parse_open_clip_spec("open_clip:RN50:none") == ("RN50", None)
    with pytest.raises(InputError, match="open_clip:ARCH:TAG"):
        parse_open_clip_spec("open_clip:ViT-B-32")


@pytest.fixture
def hf_cache(tmp_path, monkeypatch):
    pytest.importorskip("open_clip", reason="open_clip needs torchvision (make install-vision)")
    import huggingface_hub.constants as constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    return tmp_path / "hub"


def _images(n=3):
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, size=(40, 50, 3), dtype=np.uint8) for _ in range(n)]


def test_pretrained_weights_come_from_the_local_cache_only(hf_cache):
    import open_clip
    import torch
    from PIL import Image
    from safetensors.torch import save_file

    from transferscope.extraction.specs import build_encoder

    spec = "open_clip:RN50:openai"
    with pytest.raises(InputError, match="not in the local Hugging Face cache"):
        build_encoder(spec)
    torch.manual_seed(5)
    reference = open_clip.create_model("RN50", pretrained=None, force_quick_gelu=True).eval()
    repo = open_clip.get_pretrained_cfg("RN50", "openai")["hf_hub"].strip("/")
    folder = hf_cache / f"models--{repo.replace('/', '--')}"
    (folder / "snapshots" / "r1").mkdir(parents=True)
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text("r1")
    save_file({k: v.contiguous() for k, v in reference.state_dict().items()},
              str(folder / "snapshots" / "r1" / "open_clip_model.safetensors"))
    enc = build_encoder(spec)
    assert enc.layer_names() == ["visual.layer1", "visual.layer2", "visual.layer3", "visual.layer4", "output"]
    assert enc.identity()["weights_sha256"]
    images = _images()
    out = enc.encode(images, layers=["visual.layer2", "output"], poolings=["mean", "max"])
    assert out[("visual.layer2", "max")].shape == (3, 512) and out[("output", "none")].shape == (3, 1024)
    with torch.no_grad():
        expected = reference.encode_image(torch.stack([enc.transform(Image.fromarray(i)) for i in images])).numpy()
    np.testing.assert_allclose(out[("output", "none")], expected, rtol=1e-4, atol=1e-5)


def test_random_vit_and_bad_tags(hf_cache):
    from transferscope.extraction.specs import build_encoder

    enc = build_encoder("open_clip:ViT-B-32:none")
    assert enc.layer_names()[0] == "visual.transformer.resblocks.0" and len(enc.layer_names()) == 13
    out = enc.encode(_images(2), layers=["visual.transformer.resblocks.11"], poolings=["mean"])
    assert out[("visual.transformer.resblocks.11", "mean")].shape == (2, 768)
    assert build_encoder("open_clip:ViT-B-32:none").identity() == enc.identity()  # seeded
    with pytest.raises(InputError, match="not a pretrained tag"):
        build_encoder("open_clip:ViT-B-32:nope")
    with pytest.raises(InputError, match="no architecture"):
        build_encoder("open_clip:NoSuchNet:none")


def test_missing_open_clip_is_one_clear_message():
    try:
        import open_clip  # noqa: F401
    except ImportError:
        from transferscope.errors import MissingExtraError
        from transferscope.extraction.specs import build_encoder

        with pytest.raises(MissingExtraError, match="open_clip"):
            build_encoder("open_clip:RN50:none")
    else:
        pytest.skip("open_clip imports here: the missing-package message cannot be shown")
