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

from transferscope.extraction import finetuned
from transferscope.extraction.compressed_encoder import COMPRESSION_SEPARATOR

__all__ = ["ensure_finetuned"]


def ensure_finetuned(spec: str, *, cache_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """Fine-tune the model ``spec`` names if it is ``finetuned:...`` (also under a ``#compression``)
    and not trained yet; its folder, or None for any other spec."""
    text = spec.strip() if isinstance(spec, str) else ""
    base = text.rpartition(COMPRESSION_SEPARATOR)[0] or text  # "A#int8" -> "A"; "A" -> "A"
    if not base.startswith(finetuned.FINETUNED_PREFIX):
        return None
    entry, need = finetuned.finetuned_entry(base, cache_dir=cache_dir)
    if (entry / "meta.json").is_file() and (entry / "config.json").is_file():
        return entry
    from transferscope.probes.finetune_text import finetune_text_probe

    settings = finetuned.FINETUNE_SETTINGS
    entry.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", dir=entry.parent))
    try:
        data = need["data"]
        split = data.split(seed=settings["seed"])
        result = finetune_text_probe(str(need["base"]), list(data.inputs), data.labels,
                                     splits=(split.train, split.val, split.test), save_to=str(tmp), **settings)
        (tmp / "meta.json").write_text(json.dumps({"spec": base, "target": need["target"], "base": str(need["base"]),
                                                   "test_accuracy": result.score, "settings": result.settings},
                                                  default=str, indent=1), encoding="utf-8")
        if entry.exists():  # a broken entry with the same key: replace it
            shutil.rmtree(entry, ignore_errors=True)
        os.replace(tmp, entry)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return entry
