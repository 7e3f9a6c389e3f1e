"""The extraction options every command shares, in one dataclass checked once, where it is built.

:class:`ExtractionOptions` is what a caller (the CLI, a notebook) builds once and hands to every
workflow. Its fields also generate the command line's extraction options
(:mod:`transferscope.cli.options`): the option of a field is ``--`` and its name (``cache_dir`` ->
``--cache-dir``) unless the field's metadata names a flag that turns it off (``--no-cache``,
``--quiet``) or another type (``cache_dir``: a path) or a lower bound the parser checks, and its help is the field's entry below. This module imports nothing heavy, so the
command line can read it when it starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import InitVar, dataclass, field
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transferscope.errors import InputError

if TYPE_CHECKING:
    from transferscope.extraction.cache import FeatureCache
    from transferscope.extraction.encoder import Encoder

__all__ = ["ExtractionOptions", "field_help"]


@dataclass(frozen=True)
class ExtractionOptions:
    """How features are extracted: the options every command shares, checked once, when built.

    Parameters
    ----------
    cache_dir : str or path, optional
        Cache folder (default: $TRANSFERSCOPE_CACHE_DIR or the user cache).
    use_cache : bool, default=True
        Reuse cached features and per-candidate results; with False nothing is written.
    batch_size : int, default=32
        Inputs per forward pass.
    max_length : int, default=128
        Tokens kept per input.
    device : str, optional
        cpu, cuda, cuda:N or mps (chosen automatically when omitted).
    progress : bool, default=False
        Progress bars on stderr.
    trust_remote_code : bool, default=False
        Allow models to run code shipped with their checkpoint.
    names : mapping, optional
        How the caller calls each field in its messages (the command line: ``{"device":
        "--device", ...}``); not stored.

    Notes
    -----
    The device and a cache folder the caller names are checked here, before any work: a read-only,
    looping or file-blocked cache folder and a device this machine lacks are refused when the
    options are built, also when every result would come from the cache. The default cache folder
    is checked where it is first used (:meth:`feature_cache`), so precomputed features never need
    one.

    Examples
    --------
    >>> ExtractionOptions(batch_size=8, device="CPU", use_cache=False).device
    'cpu'
    >>> ExtractionOptions(batch_size=0, use_cache=False)
    Traceback (most recent call last):
    ...
    transferscope.errors.InputError: batch_size must be >= 1, got 0
    >>> ExtractionOptions(device="tpu", use_cache=False, names={"device": "--device"})
    Traceback (most recent call last):
    ...
    transferscope.errors.InputError: --device must be cpu, cuda, cuda:N or mps (omit it to choose automatically), got 'tpu'
    """

    cache_dir: str | None = field(default=None, metadata={"type": Path})
    use_cache: bool = field(default=True, metadata={"flag": "--no-cache",
                                                     "flag_help": "Compute everything afresh; write nothing to the cache."})
    batch_size: int = field(default=32, metadata={"min": 1})
    max_length: int = field(default=128, metadata={"min": 1})
    device: str | None = None
    progress: bool = field(default=False, metadata={"flag": "--quiet", "short": "-q",
                                                    "flag_help": "No progress bars."})
    trust_remote_code: bool = False
    names: InitVar[Mapping[str, str] | None] = None
    called: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self, names: Mapping[str, str] | None) -> None:
        from transferscope.extraction.checks import check_device
        from transferscope.workflows.storage.folders import check_cache_folder

        named = dict(names or {})
        object.__setattr__(self, "called", named)
        if self.cache_dir is not None:
            if not isinstance(self.cache_dir, (str, PathLike)):
                raise InputError(f"{named.get('cache_dir', 'cache_dir')} must be a folder path, got {self.cache_dir!r}")
            object.__setattr__(self, "cache_dir", str(self.cache_dir))
        for name in ("batch_size", "max_length"):
            value, called = getattr(self, name), named.get(name, name)
            if isinstance(value, bool) or not isinstance(value, int) and not hasattr(value, "__index__"):
                raise InputError(f"{called} must be an integer, got {value!r}")
            if value < 1:
                raise InputError(f"{called} must be >= 1, got {value}")
        object.__setattr__(self, "device", check_device(self.device, name=named.get("device", "device")))
        if self.use_cache and self.cache_dir is not None:  # a folder the caller named: checked now
            check_cache_folder(self.cache_dir, name=named.get("cache_dir", "cache_dir"))

    def feature_cache(self) -> FeatureCache | None:
        """The feature cache; None without caching. A folder given as ``cache_dir`` was checked when
        these options were built; the default one is checked here, where it is first used (so
        precomputed features never need a writable default cache)."""
        if not self.use_cache:
            return None
        from transferscope.extraction.cache import FeatureCache

        if self.cache_dir is None:
            from transferscope.workflows.storage.folders import check_cache_folder

            check_cache_folder(None, name=self.called.get("cache_dir", "cache_dir"))
        return FeatureCache(self.cache_dir)

    def encoder(self, spec: str | Encoder, *, seed: int = 0) -> Encoder:
        """:func:`~transferscope.extraction.specs.build_encoder` with these options; a ``finetuned:``
        spec not yet trained is trained first (:func:`~transferscope.workflows.engine.finetuned_sources.ensure_finetuned`)."""
        from transferscope.extraction.specs import build_encoder

        if isinstance(spec, str):
            from transferscope.workflows.engine.finetuned_sources import ensure_finetuned

            ensure_finetuned(spec, cache_dir=self.cache_dir, progress=self.progress)
        return build_encoder(spec, seed=seed, cache_dir=self.cache_dir, use_cache=self.use_cache,
                             **self.build_options())

    def build_options(self) -> dict[str, Any]:
        """What builds an encoder besides its spec, seed and cache: the same locally and on Ray."""
        return {"max_length": self.max_length, "batch_size": self.batch_size, "device": self.device,
                "trust_remote_code": self.trust_remote_code}



def field_help(cls: type) -> dict[str, str]:
    """Each field's description in the numpydoc "Parameters" section of ``cls``'s docstring: the
    one text that documents the field and is the help of its command-line option.

    Examples
    --------
    >>> field_help(ExtractionOptions)["batch_size"]
    'Inputs per forward pass.'
    """
    lines = [line.strip() for line in (cls.__doc__ or "").splitlines()]
    start = lines.index("Parameters") + 2
    out: dict[str, str] = {}
    name = ""
    for i in range(start, len(lines)):
        if i + 1 < len(lines) and lines[i + 1] and set(lines[i + 1]) == {"-"}:
            break  # the next section's heading
        if " : " in lines[i]:
            name = lines[i].split(" : ")[0]
            out[name] = ""
        elif lines[i] and name:
            out[name] = f"{out[name]} {lines[i]}".strip()
    return out
