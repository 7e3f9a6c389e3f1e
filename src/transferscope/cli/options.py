"""Option groups generated from the options dataclasses.

A command that extracts features declares one parameter, ``extraction``, and is decorated with
:func:`extraction_group`: the decorator gives the command one command-line option per field of
:class:`~transferscope.workflows.engine.options.ExtractionOptions` (its name, type, default and
help come from the dataclass), builds the options from them, checked once and named as options
(``--device``, ``--cache-dir``), and calls the command with them. A field added to the dataclass
is an option of every such command; no command lists them.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable
from typing import Annotated, Any, Optional, TypeVar

import typer

from transferscope.cli._common import handle_errors
from transferscope.workflows.engine.options import ExtractionOptions, field_help

__all__ = ["EXTRACTION", "QuietOption", "extraction_group", "extraction_option_names"]

#: The default of a command's ``extraction`` parameter: :func:`extraction_group` replaces it.
EXTRACTION: Any = None

F = TypeVar("F", bound=Callable[..., Any])
#: The heading the group's options are listed under in ``--help``.
PANEL = "Extraction options"

_PROGRESS = next(f for f in dataclasses.fields(ExtractionOptions) if f.name == "progress")
#: ``--quiet`` of a command that extracts nothing but reports progress: the same switch as the group's.
QuietOption = Annotated[bool, typer.Option(_PROGRESS.metadata["flag"], _PROGRESS.metadata["short"],
                                           help=_PROGRESS.metadata["flag_help"])]


def extraction_option_names(*, exclude: tuple[str, ...] = ()) -> dict[str, tuple[str, str]]:
    """Each field of ExtractionOptions -> (the command's parameter, its option), ``exclude`` left out.

    Examples
    --------
    >>> extraction_option_names()["use_cache"], extraction_option_names()["batch_size"]
    (('no_cache', '--no-cache'), ('batch_size', '--batch-size'))
    """
    out = {}
    for f in dataclasses.fields(ExtractionOptions):
        if f.name not in exclude:
            flag = f.metadata.get("flag", "--" + f.name.replace("_", "-"))
            out[f.name] = (flag.lstrip("-").replace("-", "_"), flag)
    return out


def _parameters(exclude: tuple[str, ...]) -> list[inspect.Parameter]:
    hints = typing.get_type_hints(ExtractionOptions)
    helps = field_help(ExtractionOptions)
    names = extraction_option_names(exclude=exclude)
    out = []
    for f in dataclasses.fields(ExtractionOptions):
        if f.name not in names:
            continue
        parameter, flag = names[f.name]
        if "flag" in f.metadata:  # a switch that turns the field off: --no-cache, --quiet
            decls = (flag, *((f.metadata["short"],) if "short" in f.metadata else ()))
            annotation: Any = Annotated[bool, typer.Option(*decls, help=f.metadata["flag_help"], rich_help_panel=PANEL)]
            default: Any = False
        else:
            kind = f.metadata.get("type", hints[f.name])
            annotation = Annotated[kind if f.default is not None else Optional[kind],  # noqa: UP045 (typer)
                                   typer.Option(flag, help=helps[f.name], min=f.metadata.get("min"),
                                                rich_help_panel=PANEL)]
            default = f.default
        out.append(inspect.Parameter(parameter, inspect.Parameter.KEYWORD_ONLY, default=default,
                                     annotation=annotation))
    return out


def extraction_group(command: F | None = None, *, exclude: tuple[str, ...] = ()) -> Any:
    """Give ``command`` every extraction option and call it with ``extraction=`` the
    :class:`ExtractionOptions` they make (``exclude``: fields the command fixes itself, left at
    their defaults).

    Examples
    --------
    >>> @extraction_group
    ... def show(extraction=EXTRACTION):
    ...     return extraction.batch_size, extraction.progress
    >>> "batch_size" in inspect.signature(show).parameters, show(batch_size=8, quiet=True, no_cache=True)
    (True, (8, False))
    """
    if command is None:
        return functools.partial(extraction_group, exclude=exclude)
    names = extraction_option_names(exclude=exclude)
    group = _parameters(exclude)
    own = inspect.signature(command)
    if "extraction" not in own.parameters:
        raise TypeError(f"{command.__name__} takes no 'extraction' parameter for its extraction options")
    hints = typing.get_type_hints(command, include_extras=True)
    kept = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in own.parameters.values()
            if p.name != "extraction"]

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> Any:
        values = {}
        for f in dataclasses.fields(ExtractionOptions):
            if f.name in names:
                value = kwargs.pop(names[f.name][0])
                values[f.name] = not value if "flag" in f.metadata else value
        with handle_errors():
            extraction = ExtractionOptions(**values, names={k: flag for k, (_, flag) in names.items()})
        return command(extraction=extraction, **kwargs)

    parameters = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in kept] + group
    wrapper.__signature__ = own.replace(parameters=parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": own.return_annotation}
    del wrapper.__wrapped__  # typer reads the signature above, not the command's own
    return wrapper
