"""Fine-tuning ground truth for Hugging Face text encoders.

A new linear head on the attention-masked mean of the last hidden state is
trained with AdamW for a fixed budget, either with the whole encoder (``full``)
or with only its last ``k`` transformer blocks unfrozen (``last_k``; ``k=0``
trains the head alone). For every learning rate of the grid the model is
evaluated after each epoch; the (learning rate, epoch) with the best validation
accuracy gives the reported test metrics. Everything that changes a number is
in ``settings``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score

from transferscope.errors import InputError
from transferscope.metrics import check_choice, check_classification_labels, check_positive_int
from transferscope.probes._common import classification_metrics, split_indices
from transferscope.probes.result import ProbeResult
from transferscope.torch_support import quiet_transformers

__all__ = ["finetune_text_probe"]


def _blocks(model: Any) -> list[Any]:
    """The transformer blocks: the longest ``ModuleList`` in the model."""
    import torch

    lists = [m for m in model.modules() if isinstance(m, torch.nn.ModuleList)]
    if not lists:
        raise InputError("finetune_text_probe: cannot find the transformer blocks (no ModuleList) for last_k")
    return list(max(lists, key=len))


def finetune_text_probe(
    model: str,
    texts: Sequence[str],
    labels: Any,
    *,
    splits: Any,
    mode: str = "full",
    k: int = 1,
    epochs: int = 3,
    lr: Sequence[float] = (2e-5, 5e-5),
    batch_size: int = 16,
    max_length: int = 64,
    weight_decay: float = 0.01,
    random_init: bool = False,
    seed: int = 0,
    device: str = "cpu",
    save_to: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ProbeResult:
    """Fine-tune a Hugging Face encoder with a new linear head; score it on the test split.

    Parameters
    ----------
    model : str
        Local model directory (as for ``transferscope rank``, without prefixes).
    texts : sequence of str
    labels : array-like of shape (n_samples,)
    splits : (train, val, test)
        Index arrays, e.g. ``Dataset.split(seed=0)``.
    mode : {"full", "last_k"}
    k : int, default=1
        Blocks left trainable with ``mode="last_k"`` (0 = head only).
    epochs : int, default=3
    lr : sequence of float
        Learning rates tried (AdamW).
    batch_size, max_length : int
    weight_decay : float
    random_init : bool, default=False
        Fine-tune the architecture from a seeded random initialisation instead.
    seed : int, default=0
    device : str, default="cpu"
    save_to : str, optional
        Folder the fine-tuned encoder of the selected (lr, epoch) is saved to, with its tokenizer
        (``save_pretrained``: a transformers model directory; the head is not saved).
    progress : callable, optional
        Called as ``progress(done, total)`` after every optimisation step (over every learning
        rate and epoch), so that long fine-tuning shows its progress.

    Returns
    -------
    ProbeResult
        Test accuracy at the (lr, epoch) with the best validation accuracy.

    Examples
    --------
    >>> finetune_text_probe("path/to/model", texts, labels, splits=ds.split())  # doctest: +SKIP
    """
    import torch
    import transformers

    mode = check_choice(mode, ("full", "last_k"), name="mode")
    epochs = check_positive_int(epochs, name="epochs")
    k = check_positive_int(k, name="k", minimum=0)
    texts = [str(t) for t in texts]
    codes, classes = check_classification_labels(labels, len(texts), features_name="texts")
    train, val, test = split_indices(len(texts), splits)
    lrs = [float(x) for x in (lr if isinstance(lr, Sequence) else [lr])]
    with quiet_transformers():
        tokenizer = transformers.AutoTokenizer.from_pretrained(model)
        if random_init:
            torch.manual_seed(seed)
            base = transformers.AutoModel.from_config(transformers.AutoConfig.from_pretrained(model))
        else:
            base = transformers.AutoModel.from_pretrained(model)
    enc = tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    y = torch.as_tensor(codes)

    def forward(net: Any, head: Any, idx: np.ndarray) -> Any:
        out = net(input_ids=enc["input_ids"][idx].to(device),
                  attention_mask=enc["attention_mask"][idx].to(device)).last_hidden_state
        mask = enc["attention_mask"][idx].to(device).unsqueeze(-1).float()
        return head((out * mask).sum(1) / mask.sum(1).clamp(min=1.0))

    def predict(net: Any, head: Any, idx: np.ndarray) -> np.ndarray:
        net.eval()
        preds = []
        with torch.inference_mode():
            for start in range(0, len(idx), 64):
                preds.append(forward(net, head, idx[start:start + 64]).argmax(-1).cpu().numpy())
        return np.concatenate(preds)

    curves: dict[str, list[float]] = {}
    best: tuple[float, float, int, np.ndarray] | None = None
    total, done = len(lrs) * epochs * -(-len(train) // batch_size), 0
    for rate in lrs:
        torch.manual_seed(seed)
        net = copy.deepcopy(base).to(device)
        head = torch.nn.Linear(net.config.hidden_size, classes.shape[0]).to(device)
        for p in net.parameters():
            p.requires_grad = mode == "full"
        if mode == "last_k" and k > 0:
            for block in _blocks(net)[-k:]:
                for p in block.parameters():
                    p.requires_grad = True
        params = [p for p in net.parameters() if p.requires_grad] + list(head.parameters())
        optim = torch.optim.AdamW(params, lr=rate, weight_decay=weight_decay)
        rng = np.random.default_rng(seed)
        curves[f"{rate:g}"] = []
        for epoch in range(1, epochs + 1):
            net.train()
            order = rng.permutation(train)
            for start in range(0, len(order), batch_size):
                idx = order[start:start + batch_size]
                loss = torch.nn.functional.cross_entropy(forward(net, head, idx), y[idx].to(device))
                optim.zero_grad()
                loss.backward()
                optim.step()
                done += 1
                if progress is not None:
                    progress(done, total)
            val_acc = float(accuracy_score(codes[val], predict(net, head, val)))
            curves[f"{rate:g}"].append(val_acc)
            if best is None or val_acc > best[0]:
                best = (val_acc, rate, epoch, predict(net, head, test))
                if save_to is not None:
                    best_state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
    assert best is not None
    _, rate, epoch, pred = best
    if save_to is not None:
        net.load_state_dict(best_state)
        with quiet_transformers():
            net.cpu().save_pretrained(save_to)
            tokenizer.save_pretrained(save_to)
    metrics = classification_metrics(codes[test], pred)
    settings = {"probe": "finetune_text", "mode": mode, "k": k, "epochs": epochs, "lr_grid": lrs,
                "lr": rate, "epoch": epoch, "batch_size": batch_size, "max_length": max_length,
                "weight_decay": weight_decay, "random_init": random_init, "seed": seed,
                "val_accuracy": curves, "selection": "best validation accuracy over (lr, epoch); no refit",
                "n_train": int(train.size), "n_val": int(val.size), "n_test": int(test.size)}
    return ProbeResult(metrics["accuracy"], "accuracy", metrics, settings)
