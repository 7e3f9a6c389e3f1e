"""The guide's examples run as written (issue 15): every ``console`` line through bash and every
``python`` block in one namespace, in a fresh folder, in the order of ``docs/guide.md``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "guide.md"


def _blocks(text: str) -> list[tuple[str, str]]:
    return re.findall(r"```(console|python)\n(.*?)```", text, flags=re.S)


def test_the_guide_has_examples():
    kinds = [k for k, _ in _blocks(GUIDE.read_text(encoding="utf-8"))]
    assert kinds.count("console") >= 2 and kinds.count("python") >= 2


def test_the_guide_runs(tmp_path, minilm_path):
    pytest.importorskip("plotly", reason="the report needs plotly (the report extra)")
    env = {**os.environ, "MINILM": str(minilm_path), "TRANSFERSCOPE_CACHE_DIR": str(tmp_path / "cache")}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    namespace: dict = {}
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        for kind, body in _blocks(GUIDE.read_text(encoding="utf-8")):
            if kind == "python":
                exec(compile(body, str(GUIDE), "exec"), namespace)  # noqa: S102 - our own documentation
                continue
            for line in body.splitlines():
                if line.startswith("$ "):
                    done = subprocess.run(["bash", "-c", line[2:]], env=env, capture_output=True, text=True,
                                          timeout=900)
                    assert done.returncode == 0, f"{line}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    finally:
        os.chdir(cwd)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Answer:" in page and "layer_" in page  # the answer line at the top; MiniLM's layers were ranked
    assert (tmp_path / "my-report.html").is_file() and (tmp_path / "ranking.html").is_file()
    assert any((tmp_path / "figures").glob("*.png"))
