"""Issue 25: compact terminal tables. Every command's tables fit 100 columns (the details are in
``--output`` and the report): ``drift`` printed 16 columns (324 characters a row), ``layers`` 13
(178), ``select`` 9 (134), ``compat`` 10 (107), each folded into several lines per row at 100."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from transferscope.cli.app import app

WIDTH = 100


def _widest_table_line(output: str) -> int:
    rows = [line.rstrip() for line in output.splitlines() if line[:1] in "┏┃┡│└"]
    assert rows, output  # the command printed a table
    return max(len(line) for line in rows)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("cache"))


@pytest.mark.parametrize("args", [
    ["rank", "--dataset", "sentence-polarity", "--model", "tfidf", "--model", "hashing", "--probe", "--predict"],
    ["rank", "--dataset", "sentence-polarity", "--model", "MINILM", "--pooling", "mean,cls", "--probe", "--predict"],
    ["select", "--dataset", "sentence-polarity", "--model", "tfidf", "--model", "hashing", "--model", "MINILM"],
    ["layers", "--dataset", "sentence-polarity", "--model", "MINILM"],
    ["compare", "--dataset", "sentence-polarity", "--model", "tfidf", "--model", "MINILM"],
    ["compat", "--old", "MINILM", "--new", "tfidf", "--new", "hashing", "--dataset", "sentence-polarity"],
    ["elastic", "--model", "MINILM", "--layers", "output", "--dataset", "sentence-polarity"],
    ["sources", "--target", "sentence-polarity", "--source", "vader-polarity", "--source", "word-language",
     "--model", "MINILM", "--max-samples", "150"],
    ["meta", "published:tllib-10x8"],
], ids=lambda args: "-".join(a for a in args[:5] if not a.startswith("-")))
def test_every_command_prints_tables_that_fit_100_columns(args, cache, minilm_path):  # noqa: ARG001 (skips without it)
    args = ["minilm" if a == "MINILM" else a for a in args]  # the zoo's short name, as the README writes it
    out = CliRunner().invoke(app, [*args, *(["--cache-dir", cache] if args[0] != "meta" else []), "-q"])
    assert out.exit_code == 0, out.output
    assert _widest_table_line(out.output) <= WIDTH, out.output
