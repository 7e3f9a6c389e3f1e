"""Fine-tuning ground truth for Hugging Face text encoders (tiny BERT, seconds)."""

from __future__ import annotations

import numpy as np
import pytest

from transferscope.errors import InputError

pytest.importorskip("torch")
pytest.importorskip("transformers")

from transferscope.probes.finetune_text import finetune_text_probe  # noqa: E402

POS = ["good", "great", "lovely", "superb", "fine", "nice"]
NEG = ["bad", "awful", "poor", "dull", "ugly", "sad"]
TEXTS = [f"{(POS if i % 2 else NEG)[i % 6]} film {i % 5}" for i in range(120)]
LABELS = np.array(["pos" if i % 2 else "neg" for i in range(120)])
SPLITS = (np.arange(0, 72), np.arange(72, 96), np.arange(96, 120))


def test_finetune_learns_an_easy_task_and_is_seeded(tiny_bert_dir):
    a = finetune_text_probe(str(tiny_bert_dir), TEXTS, LABELS, splits=SPLITS, epochs=3, lr=[1e-3], batch_size=16)
    b = finetune_text_probe(str(tiny_bert_dir), TEXTS, LABELS, splits=SPLITS, epochs=3, lr=[1e-3], batch_size=16)
    assert a.score == b.score and a.settings["epoch"] == b.settings["epoch"]
    assert a.score > 0.8  # word identity decides the label; chance is 0.5
    assert a.settings["mode"] == "full" and a.settings["n_test"] == 24


def test_last_k_and_head_only(tiny_bert_dir):
    head_only = finetune_text_probe(str(tiny_bert_dir), TEXTS, LABELS, splits=SPLITS, mode="last_k", k=0,
                                    epochs=1, lr=[1e-3])
    assert 0.0 <= head_only.score <= 1.0 and head_only.settings["k"] == 0
    with pytest.raises(InputError, match="mode must be one of"):
        finetune_text_probe(str(tiny_bert_dir), TEXTS, LABELS, splits=SPLITS, mode="half")
    with pytest.raises(InputError, match="labels has 3 entries"):
        finetune_text_probe(str(tiny_bert_dir), TEXTS, LABELS[:3], splits=SPLITS)


def test_fine_tuning_reports_every_step(tiny_bert_dir, capsys):
    """Issue 25: fine-tuning sat silent for minutes (drift --tuned finetuned:... for over 17).
    The probe reports (done, total) after every optimisation step over every learning rate and
    epoch, and finetune_transfer shows it (plain lines when stderr is not a terminal)."""
    from transferscope.datasets import Dataset
    from transferscope.extraction.specs import build_encoder
    from transferscope.workflows.engine.finetuning import finetune_transfer

    reports = []
    finetune_text_probe(str(tiny_bert_dir), TEXTS, LABELS, splits=SPLITS, epochs=2, lr=[1e-3, 2e-3], batch_size=16,
                        progress=lambda done, total: reports.append((done, total)))
    steps = 2 * 2 * -(-len(SPLITS[0]) // 16)
    assert reports == [(i, steps) for i in range(1, steps + 1)]
    data = Dataset("toy", TEXTS, LABELS, "classification")
    encoder = build_encoder(f"hf:{tiny_bert_dir}", use_cache=False)
    finetune_transfer(encoder, data, SPLITS, seed=0, options={"epochs": 1, "lr": [1e-3]}, progress=True)
    assert f"fine-tuning {encoder.name} on toy: " in capsys.readouterr().err
