"""What a result records about how it was made: the library versions, each model's identity (the
hash of its weights, as the feature cache keys it) and input preprocessing, and the run stamp of
rows added to a results store."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from transferscope.errors import InputError, MissingExtraError
from transferscope.extraction.versions import library_versions

__all__ = ["library_versions", "model_identities", "stamped_rows"]


def model_identities(specs: Sequence[str], *, cache_dir: Path | None = None) -> dict[str, Any]:
    """Per model spec: its identity and preprocessing, or why they could not be recorded (a model
    that cannot be built is named, not a reason to fail the command that already ran)."""
    from transferscope.extraction.specs import build_encoder

    identities: dict[str, Any] = {}
    for spec in specs:
        try:
            encoder = build_encoder(spec, cache_dir=None if cache_dir is None else str(cache_dir))
            identities[spec] = {**encoder.identity(), "preprocessing": encoder.preprocessing()}
        except (InputError, MissingExtraError, OSError) as exc:
            identities[spec] = f"not recorded: {' '.join(str(exc).split())[:120]}"
    return identities


def stamped_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` for a results store, with this run's id (UTC time) and the library versions filled
    in where a row has none."""
    import pandas as pd

    run, versions = pd.Timestamp.now("UTC").strftime("%Y%m%dT%H%M%S"), library_versions()
    return [{**r, "run": r.get("run") or run, "versions": r.get("versions") or versions} for r in rows]
