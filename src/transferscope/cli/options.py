"""Option groups generated from the options dataclasses.

A command declares one parameter per group (``extraction``, ``source``, ``outputs``) and is
decorated with :func:`option_group` for each: the decorator gives the command one command-line
option per field of the group's dataclass (its name, type, default, bound and help come from the
dataclass and its docstring), builds the dataclass from them, checked once and named as options
(``--device``, ``--cache-dir``, ``--output``), and calls the command with it. A field added to a
dataclass is an option of every command of that group; no command lists them.

The groups: :class:`~transferscope.workflows.engine.options.ExtractionOptions` (every command
that extracts features), :class:`~transferscope.workflows.data_source.DataSource` (``--data`` /
``--dataset`` / ``--features`` + ``--labels``: every command that reads labelled inputs, with the
fields it uses) and :class:`OutputOptions` (``--output``, ``--report``, ``--figures``).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import InitVar, dataclass
from pathlib import Path
from typing import Annotated, Any, Optional, Union

import typer

from transferscope.cli._common import OUTPUT_SUFFIXES, handle_errors
from transferscope.workflows.data_source import DataSource
from transferscope.workflows.engine.options import ExtractionOptions, field_help

__all__ = ["EXTRACTION", "SOURCE", "OUTPUTS", "OutputOptions", "QuietOption", "FiguresOption", "option_group",
           "extraction_group", "source_group", "output_group", "option_names"]

#: The defaults of a command's group parameters: :func:`option_group` replaces them.
EXTRACTION: Any = None
SOURCE: Any = None
OUTPUTS: Any = None

#: The headings the groups' options are listed under in ``--help``.
PANELS = {ExtractionOptions: "Extraction options", DataSource: "Input options"}


@dataclass(frozen=True)
class OutputOptions:
    """What a command writes besides its terminal answer, checked before any work.

    Parameters
    ----------
    output : path, optional
        Write the result's rows to .csv, .json or .parquet, with its kind, settings and answer
        (`transferscope report FILE` draws its report again).
    report : path, optional
        Also write a self-contained HTML report of the results (works from disk, no network).
    figures : path, optional
        Also write the report's figures as PNG and SVG (for papers) into this folder.
    names : mapping, optional
        How the caller calls each field in its messages; not stored.

    Examples
    --------
    >>> OutputOptions().any
    False
    >>> OutputOptions(output="table.txt", names={"output": "--output"})
    Traceback (most recent call last):
    ...
    transferscope.errors.InputError: --output must end in one of .csv, .json, .parquet, got 'table.txt'
    """

    output: Path | None = None
    report: Path | None = None
    figures: Path | None = None
    names: InitVar[Mapping[str, str] | None] = None

    def __post_init__(self, names: Mapping[str, str] | None) -> None:
        from transferscope.workflows.storage.folders import check_output_file

        named = dict(names or {})
        if self.output is not None:
            check_output_file(self.output, name=named.get("output", "output"), suffixes=OUTPUT_SUFFIXES)
        if self.report is not None or self.figures is not None:
            from transferscope.report.build import check_figures_folder, check_report_path

            if self.report is not None:
                check_report_path(self.report, name=named.get("report", "report"))
            if self.figures is not None:
                check_figures_folder(self.figures, name=named.get("figures", "figures"))

    @property
    def any(self) -> bool:
        """Whether anything is to be written."""
        return self.output is not None or self.report is not None or self.figures is not None


PANELS[OutputOptions] = "Output options"


def option_names(cls: type, *, include: tuple[str, ...] | None = None,
                 exclude: tuple[str, ...] = ()) -> dict[str, tuple[str, str]]:
    """Each command-line field of ``cls`` -> (the command's parameter, its option).

    Examples
    --------
    >>> option_names(ExtractionOptions)["use_cache"], option_names(ExtractionOptions)["batch_size"]
    (('no_cache', '--no-cache'), ('batch_size', '--batch-size'))
    """
    out = {}
    for f in dataclasses.fields(cls):
        if f.init and f.name not in exclude and (include is None or f.name in include):
            flag = f.metadata.get("flag", "--" + f.name.replace("_", "-"))
            out[f.name] = (flag.lstrip("-").replace("-", "_"), flag)
    return out


def _optional(kind: Any) -> Any:
    """``X | None`` as typer reads it: ``Optional[X]``."""
    if typing.get_origin(kind) in (Union, types.UnionType):
        kind = next(a for a in typing.get_args(kind) if a is not type(None))
    return Optional[kind]  # noqa: UP045 (typer)


def _parameters(cls: type, names: dict[str, tuple[str, str]]) -> list[inspect.Parameter]:
    hints = typing.get_type_hints(cls)
    helps = field_help(cls)
    out = []
    for f in dataclasses.fields(cls):
        if f.name not in names:
            continue
        parameter, flag = names[f.name]
        if "flag" in f.metadata:  # a switch that turns the field off: --no-cache, --quiet
            decls = (flag, *((f.metadata["short"],) if "short" in f.metadata else ()))
            annotation: Any = Annotated[bool, typer.Option(*decls, help=f.metadata["flag_help"],
                                                           rich_help_panel=PANELS[cls])]
            default: Any = False
        else:
            kind = f.metadata.get("type", hints[f.name])
            annotation = Annotated[_optional(kind) if f.default is None else kind,
                                   typer.Option(flag, help=helps[f.name], min=f.metadata.get("min"),
                                                rich_help_panel=PANELS[cls])]
            default = f.default
        out.append(inspect.Parameter(parameter, inspect.Parameter.KEYWORD_ONLY, default=default,
                                     annotation=annotation))
    return out


def option_group(cls: type, *, parameter: str, include: tuple[str, ...] | None = None,
                 exclude: tuple[str, ...] = ()) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A decorator: the command gets the fields of ``cls`` (``include`` only, ``exclude`` left at
    their defaults) as options and is called with ``parameter=`` the ``cls`` they make."""
    names = option_names(cls, include=include, exclude=exclude)
    group = _parameters(cls, names)
    defaults = {f.name: False if "flag" in f.metadata else f.default for f in dataclasses.fields(cls) if f.name in names}

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        own = inspect.signature(command)
        if parameter not in own.parameters:
            raise TypeError(f"{command.__name__} takes no {parameter!r} parameter for its {cls.__name__}")
        hints = typing.get_type_hints(command, include_extras=True)
        kept = [p.replace(annotation=hints.get(p.name, p.annotation), kind=inspect.Parameter.KEYWORD_ONLY)
                for p in own.parameters.values() if p.name != parameter]

        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> Any:
            values = {}
            for f in dataclasses.fields(cls):
                if f.name in names:
                    value = kwargs.pop(names[f.name][0], defaults[f.name])
                    values[f.name] = not value if "flag" in f.metadata else value
            with handle_errors():
                built = cls(**values, names={k: flag for k, (_, flag) in names.items()})
            return command(**{parameter: built}, **kwargs)

        parameters = kept + group
        wrapper.__signature__ = own.replace(parameters=parameters)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": hints.get("return")}
        del wrapper.__wrapped__  # typer reads the signature above, not the command's own
        return wrapper

    return decorate


def extraction_group(command: Callable[..., Any] | None = None, *, exclude: tuple[str, ...] = ()) -> Any:
    """Every extraction option, as ``extraction`` (:class:`ExtractionOptions`).

    Examples
    --------
    >>> @extraction_group
    ... def show(extraction=EXTRACTION):
    ...     return extraction.batch_size, extraction.progress
    >>> "batch_size" in inspect.signature(show).parameters, show(batch_size=8, quiet=True, no_cache=True)
    (True, (8, False))
    """
    decorate = option_group(ExtractionOptions, parameter="extraction", exclude=exclude)
    return decorate if command is None else decorate(command)


def source_group(*, include: tuple[str, ...] | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The data-source options (``include``: the fields the command reads), as ``source`` (:class:`DataSource`)."""
    return option_group(DataSource, parameter="source", include=include)


def output_group(command: Callable[..., Any] | None = None, *, exclude: tuple[str, ...] = ()) -> Any:
    """``--output``, ``--report``, ``--figures`` as ``outputs`` (:class:`OutputOptions`)."""
    decorate = option_group(OutputOptions, parameter="outputs", exclude=exclude)
    return decorate if command is None else decorate(command)


#: ``--figures`` of ``transferscope report``, whose ``--output`` is the page itself: the group's help.
FiguresOption = Annotated[Optional[Path], typer.Option(help=field_help(OutputOptions)["figures"])]

_PROGRESS = next(f for f in dataclasses.fields(ExtractionOptions) if f.name == "progress")
#: ``--quiet`` of a command that extracts nothing but reports progress: the same switch as the group's.
QuietOption = Annotated[bool, typer.Option(_PROGRESS.metadata["flag"], _PROGRESS.metadata["short"],
                                           help=_PROGRESS.metadata["flag_help"])]
