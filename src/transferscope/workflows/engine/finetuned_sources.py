"""Training the ``finetuned:TARGET:BASE`` encoders of :mod:`transferscope.extraction.finetuned`.

Fine-tuning is a probe (:func:`~transferscope.probes.finetune_text.finetune_text_probe`), so it is
run from here, above the extraction layer, before an encoder is built: the entry is written to a
temporary folder and renamed into place, so an interrupted training leaves nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from transferscope.extraction import finetuned
from transferscope.extraction.compressed_encoder import COMPRESSION_SEPARATOR

__all__ = ["ensure_finetuned"]


def ensure_finetuned(spec: str, *, cache_dir: str | os.PathLike[str] | None = None,
                     progress: bool = False) -> Path | None:
    """Fine-tune the model ``spec`` names if it is ``finetuned:...`` (also under a ``#compression``)
    and not trained yet; its folder, or None for any other spec. With ``progress``, the training
    steps show on stderr (fine-tuning a text model takes minutes)."""
    from transferscope.extraction.progress import step_progress

    text = spec.strip() if isinstance(spec, str) else ""
    base = text.rpartition(COMPRESSION_SEPARATOR)[0] or text  # "A#int8" -> "A"; "A" -> "A"
    if not base.startswith(finetuned.FINETUNED_PREFIX):
        return None
    entry, need = finetuned.finetuned_entry(base, cache_dir=cache_dir)
    if finetuned.is_trained(entry, need["base"] if isinstance(need["base"], str) else ""):
        return entry
    entry.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", dir=entry.parent))
    try:
        data = need["data"]
        with step_progress(f"fine-tuning {base}", enabled=progress) as report:
            if isinstance(need["base"], str) and finetuned.is_zoo_base(need["base"]):
                result = _finetune_zoo(need["base"], data, tmp, settings=need["settings"], cache_dir=cache_dir,
                                       progress=report)
            else:
                from transferscope.probes.finetune_text import finetune_text_probe

                settings = need["settings"]
                split = data.split(seed=finetuned.FINETUNE_SETTINGS["seed"])  # a re-seed keeps the split
                result = finetune_text_probe(str(need["base"]), list(data.inputs), data.labels,
                                             splits=split, save_to=str(tmp),
                                             progress=report, **settings)
        (tmp / "meta.json").write_text(json.dumps({"spec": base, "target": need["target"], "base": str(need["base"]),
                                                   "test_accuracy": result.score, "settings": result.settings,
                                                   "classes": result.settings.get("classes")},
                                                  default=str, indent=1), encoding="utf-8")
        if entry.exists():  # a broken entry with the same key: replace it
            shutil.rmtree(entry, ignore_errors=True)
        os.replace(tmp, entry)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return entry


def _finetune_zoo(base: str, data: Any, folder: Path, *, settings: dict[str, Any],
                  cache_dir: str | os.PathLike[str] | None, progress: Any = None) -> Any:
    """Fine-tune the digit-zoo model ``base`` on ``data`` (the 60/20/20 split of seed 0) into ``folder``
    with ``settings`` (:data:`~transferscope.extraction.finetuned.ZOO_FINETUNE_SETTINGS`, re-seeded)."""
    from transferscope.extraction.zoo import load_zoo_model
    from transferscope.probes.finetune import finetune_probe

    split = data.split(seed=finetuned.ZOO_FINETUNE_SETTINGS["seed"])  # a re-seed keeps the split
    model = load_zoo_model(base.removeprefix("zoo:"), cache_dir=cache_dir)
    return finetune_probe(lambda: model, data.inputs, data.labels, splits=split,
                          save_to=str(folder), progress=progress, **{**settings, "lr": tuple(settings["lr"])})
