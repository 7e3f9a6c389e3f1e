"""Fine-tuning ground truth: measured transfer of a pretrained torch model, not of frozen features.

:func:`finetune_probe` copies a pretrained model, puts a new linear head on it (replacing
its ``head`` attribute when it is an ``nn.Linear``, else appending one to the model's
output), and trains on the train split with Adam and cross-entropy for a fixed number of
epochs, once per learning rate of a small grid. After every epoch it records validation
accuracy; the (learning rate, epoch) with the best validation accuracy is selected (ties go
to fewer epochs, then to the earlier learning rate in the grid) and its test predictions are
reported: top-1 accuracy (the score), balanced accuracy and macro-F1. Test labels never
influence the choice. There is no refit on train + validation.

Modes: ``"full"`` trains every parameter; ``"last_k"`` trains the head and the last ``k``
top-level child modules that hold parameters (``k=0``: head only, a linear probe trained by
SGD on frozen features; frozen modules stay in eval mode). Runs are seeded, single-threaded
by default and use deterministic algorithms; the same call gives the same numbers on the
same machine.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score

from transferscope.errors import InputError
from transferscope.metrics import check_choice, check_classification_labels, check_positive_int
from transferscope.probes._common import classification_metrics, split_indices
from transferscope.probes.result import ProbeResult
from transferscope.torch_support import require_torch

__all__ = ["finetune_probe", "DEFAULT_LR_GRID"]

DEFAULT_LR_GRID = (3e-4, 1e-3, 3e-3)


@contextlib.contextmanager
def _deterministic(num_threads: int | None) -> Iterator[None]:
    torch = require_torch()
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    if num_threads is not None:
        torch.set_num_threads(num_threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        with torch.random.fork_rng(devices=[]):
            yield
    finally:
        torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
        torch.set_num_threads(threads)


def _attach_head(model: Any, n_classes: int, head: str, sample: Any) -> tuple[Any, str]:
    """``(model with a fresh linear head, name of the head module)``."""
    torch = require_torch()
    nn = torch.nn
    old = getattr(model, head, None)
    if isinstance(old, nn.Linear):
        setattr(model, head, nn.Linear(old.in_features, n_classes))
        return model, head
    model.eval()
    with torch.no_grad():
        dim = int(model(sample).flatten(1).shape[1])
    wrapped = nn.Sequential()
    wrapped.add_module("backbone", model)
    wrapped.add_module("flatten", nn.Flatten())
    wrapped.add_module(head, nn.Linear(dim, n_classes))
    return wrapped, head


def _trainable_modules(model: Any, head: str, mode: str, k: int) -> list[str]:
    """Names of the top-level children that train (the head always does)."""
    if mode == "full":
        return [name for name, _ in model.named_children()]
    children = [(name, m) for name, m in model.named_children() if name != head]
    if len(children) == 1 and children[0][0] == "backbone":  # wrapped model: look inside it
        inner = [(f"backbone.{name}", m) for name, m in children[0][1].named_children()]
        children = inner or children
    with_params = [name for name, m in children if any(True for _ in m.parameters())]
    return (with_params[-k:] if k > 0 else []) + [head]


def finetune_probe(
    model_factory: Callable[[], Any],
    inputs: Any,
    labels: Any,
    *,
    splits: Any,
    mode: str = "full",
    k: int = 1,
    epochs: int = 10,
    lr: float | Sequence[float] = DEFAULT_LR_GRID,
    batch_size: int = 64,
    weight_decay: float = 0.0,
    seed: int = 0,
    head: str = "head",
    device: str = "cpu",
    num_threads: int | None = 1,
    save_to: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ProbeResult:
    """Fine-tune a copy of a pretrained model with a new linear head; score it on the test split.

    Parameters
    ----------
    model_factory : callable
        ``model_factory()`` returns the pretrained ``torch.nn.Module`` (it is deep-copied, so
        a cached instance is never modified). If its ``head`` attribute is an ``nn.Linear``
        it is replaced; otherwise the model's (flattened) output feeds a new linear head.
    inputs : array-like of shape (n_samples, ...)
        What the model takes, e.g. ``(N, 1, 16, 16)`` float32 images.
    labels : array-like of shape (n_samples,)
        Class labels of any hashable type.
    splits : (train, val, test)
        Index arrays, e.g. ``Dataset.split(seed=0)``; fixed across candidates.
    mode : {"full", "last_k"}, default="full"
    k : int, default=1
        For ``mode="last_k"``: how many of the last parameterised top-level modules (before
        the head) train; 0 trains the head only.
    epochs : int, default=10
        Epochs per learning rate; the best epoch is chosen on validation.
    lr : float or sequence of float, default=(3e-4, 1e-3, 3e-3)
        Adam learning rate(s) to try.
    batch_size : int, default=64
    weight_decay : float, default=0.0
    seed : int, default=0
        Seeds the new head and the batch order (the same for every learning rate).
    head : str, default="head"
        Attribute name of the classifier to replace.
    device : str, default="cpu"
    num_threads : int or None, default=1
        torch CPU threads during the run (restored afterwards). One thread makes results
        independent of the machine's core count and is the fastest for these small models;
        None leaves the current setting.
    save_to : str, optional
        A folder: the weights of the chosen epoch (with the new head) are written there as
        ``model.safetensors``; ``settings["classes"]`` lists the head's classes in order.
    progress : callable, optional
        Called as ``progress(done, total)`` after every optimisation step (over every learning
        rate and epoch), so that long fine-tuning shows its progress.

    Returns
    -------
    ProbeResult
        ``score`` is test top-1 accuracy; ``metrics`` adds balanced accuracy and macro-F1;
        ``settings`` records the protocol, the grid, the choice and every validation curve.

    Examples
    --------
    >>> import numpy as np, torch
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 60)
    >>> x = (rng.normal(size=(120, 4)) + 2.0 * y[:, None]).astype(np.float32)
    >>> def factory():
    ...     torch.manual_seed(0)
    ...     return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU())
    >>> idx = rng.permutation(120)
    >>> res = finetune_probe(factory, x, y, splits=(idx[:80], idx[80:100], idx[100:]),
    ...                      epochs=5, lr=0.01, batch_size=16)
    >>> res.score >= 0.8, res.settings["protocol"]
    (True, 'finetune')
    """
    torch = require_torch()
    mode = check_choice(mode, ("full", "last_k"), name="mode")
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 0:
        raise InputError(f"k must be an integer >= 0, got {k!r}")
    epochs = check_positive_int(epochs, name="epochs")
    batch_size = check_positive_int(batch_size, name="batch_size")
    lr_grid = [float(v) for v in (lr if isinstance(lr, Sequence) and not isinstance(lr, str) else [lr])]
    if not lr_grid or any(not np.isfinite(v) or v <= 0 for v in lr_grid):
        raise InputError(f"lr must be a positive number or a non-empty sequence of them, got {lr!r}")
    if not (np.isfinite(weight_decay) and weight_decay >= 0):
        raise InputError(f"weight_decay must be >= 0, got {weight_decay!r}")
    try:
        x_np = np.ascontiguousarray(np.asarray(inputs, dtype=np.float32))
    except (TypeError, ValueError):
        raise InputError("inputs must be a numeric array (n_samples, ...)") from None
    if x_np.ndim < 2 or not np.isfinite(x_np).all():
        raise InputError(f"inputs must be a finite array of shape (n_samples, ...), got shape {x_np.shape}")
    codes, classes = check_classification_labels(labels, x_np.shape[0], features_name="inputs")
    train, val, test = split_indices(x_np.shape[0], splits)
    if np.unique(codes[train]).size < 2:
        raise InputError("the train split holds a single class; fine-tuning needs at least 2")
    n_classes = int(classes.shape[0])

    x_all = torch.from_numpy(x_np)
    y_all = torch.from_numpy(codes.astype(np.int64))
    curves: dict[str, list[float]] = {}
    test_preds: dict[tuple[int, int], np.ndarray] = {}
    states: dict[tuple[int, int], dict[str, Any]] = {}  # only with save_to: the weights of every epoch
    trainable: list[str] = []
    n_trainable = 0
    total, done = len(lr_grid) * epochs * -(-len(train) // batch_size), 0
    with _deterministic(num_threads):
        for li, rate in enumerate(lr_grid):
            base = model_factory()
            if not isinstance(base, torch.nn.Module):
                raise InputError(f"model_factory must return a torch.nn.Module, got {type(base).__name__}")
            model = copy.deepcopy(base)
            torch.manual_seed(seed)
            model, head_name = _attach_head(model, n_classes, head, x_all[train[:1]])
            trainable = _trainable_modules(model, head_name, mode, int(k))
            modules = dict(model.named_modules())
            for p in model.parameters():
                p.requires_grad_(False)
            for name in trainable:
                for p in modules[name].parameters():
                    p.requires_grad_(True)
            params = [p for p in model.parameters() if p.requires_grad]
            n_trainable = int(sum(p.numel() for p in params))
            model.to(device)
            optimiser = torch.optim.Adam(params, lr=rate, weight_decay=weight_decay)
            order = torch.Generator().manual_seed(seed)
            train_t = torch.from_numpy(train)
            curve: list[float] = []
            for epoch in range(epochs):
                _set_train_mode(model, trainable, mode)
                perm = train_t[torch.randperm(train_t.numel(), generator=order)]
                for s in range(0, perm.numel(), batch_size):
                    batch = perm[s : s + batch_size]
                    optimiser.zero_grad(set_to_none=True)
                    out = model(x_all[batch].to(device))
                    loss = torch.nn.functional.cross_entropy(out, y_all[batch].to(device))
                    loss.backward()
                    optimiser.step()
                    done += 1
                    if progress is not None:
                        progress(done, total)
                model.eval()
                val_pred = _predict(model, x_all[val], device, batch_size)
                curve.append(float(accuracy_score(codes[val], val_pred)))
                test_preds[(li, epoch)] = _predict(model, x_all[test], device, batch_size)
                if save_to is not None:
                    states[(li, epoch)] = {k: v.detach().cpu().clone().contiguous() for k, v in
                                           model.state_dict().items()}
            curves[repr(rate)] = curve
    # Best validation accuracy; ties -> fewer epochs, then the earlier learning rate.
    candidates = [(-curves[repr(lr_grid[li])][e], e, li) for (li, e) in test_preds]
    _, best_epoch, best_li = min(candidates)
    pred = test_preds[(best_li, best_epoch)]
    if save_to is not None:
        from safetensors.torch import save_file

        save_file(states[(best_li, best_epoch)], str(Path(save_to) / "model.safetensors"))
    y_test = codes[test]
    metrics = classification_metrics(y_test, pred)
    settings = {
        "protocol": "finetune",
        "mode": mode,
        "k": int(k) if mode == "last_k" else None,
        "trainable_modules": trainable,
        "n_trainable_params": n_trainable,
        "optimizer": "adam",
        "loss": "cross_entropy",
        "weight_decay": float(weight_decay),
        "epochs": epochs,
        "lr_grid": lr_grid,
        "batch_size": batch_size,
        "seed": int(seed),
        "lr": lr_grid[best_li],
        "epoch": best_epoch + 1,
        "val_accuracy": curves,
        "selection": "max validation accuracy; ties -> fewer epochs, then earlier lr",
        "n_classes": n_classes,
        "classes": [c.item() if hasattr(c, "item") else c for c in classes],
        "n_train": int(train.size), "n_val": int(val.size), "n_test": int(test.size),
        "device": device,
        "num_threads": int(torch.get_num_threads()) if num_threads is None else int(num_threads),
        "torch": torch.__version__,
    }
    return ProbeResult(metrics["accuracy"], "accuracy", metrics, settings)


def _set_train_mode(model: Any, trainable: list[str], mode: str) -> None:
    """Train mode for trainable modules only (frozen ones keep eval behaviour)."""
    if mode == "full":
        model.train()
        return
    model.eval()
    modules = dict(model.named_modules())
    for name in trainable:
        modules[name].train()


def _predict(model: Any, x: Any, device: str, batch_size: int) -> np.ndarray:
    torch = require_torch()
    parts = []
    with torch.inference_mode():
        for s in range(0, x.shape[0], max(batch_size, 256)):
            parts.append(model(x[s : s + max(batch_size, 256)].to(device)).argmax(1).cpu().numpy())
    return np.concatenate(parts)
