"""The HTML report rendered in a real browser (headless Chromium, issue 15): every plot drawn, no
network request made, hostile labels kept as text.

Skipped with the reason where Chromium is absent; ``.ci/run`` installs Debian's ``chromium`` so that
CI runs it.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("plotly", reason="the report needs plotly (the report extra)")
pytest.importorskip("jinja2", reason="the report needs jinja2 (the report extra)")

from transferscope.report import Results, write_report  # noqa: E402

CHROMIUM = next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (Debian: apt install chromium)")

HOSTILE = '<script>document.title="pwned"</script>'
HOSTILE_IMG = "<img src=x onerror=\"document.title='pwned'\">"


class _Proxy:
    """An HTTP proxy on 127.0.0.1 that records every request Chromium sends through it and answers 502."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    head = conn.recv(4096).decode("latin-1")
                except OSError:
                    head = ""
                if head:
                    self.requests.append(head.splitlines()[0])
                try:
                    conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()


#: Connections headless Chromium makes by itself whatever the page (sign-in, search preconnect, network
#: time, and since Debian's 156.0.8078.129 its component updater despite --disable-component-update);
#: the proxy sees them, the page's own requests are the rest (the page's observers see those too).
BROWSER_HOSTS = ("accounts.google.com:443", "www.google.com:443", "clients2.google.com/time/",
                 "update.googleapis.com")

#: Observers added to a copy of the report: every resource the page loaded (Resource Timing) and every
#: request its Content-Security-Policy blocked, written into <body> attributes for --dump-dom.
OBSERVE_HEAD = ("<script>window.__blocked=[];document.addEventListener('securitypolicyviolation',"
                "function(e){window.__blocked.push(e.blockedURI);});</script>")
OBSERVE_END = ("<script>window.addEventListener('load',function(){setTimeout(function(){"
               "document.body.setAttribute('data-resources',JSON.stringify(performance.getEntriesByType('resource')"
               ".map(function(e){return e.name;})));"
               "document.body.setAttribute('data-blocked',JSON.stringify(window.__blocked));},1000);});</script>")


def _observed(page: Path, target: Path, *, inject: str = "", keep_csp: bool = True) -> Path:
    text = page.read_text(encoding="utf-8")
    if not keep_csp:
        text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", text)
    text = text.replace("<head>", "<head>" + OBSERVE_HEAD, 1).replace("<main>", "<main>" + inject, 1)
    target.write_text(text.replace("</body>", OBSERVE_END + "</body>", 1), encoding="utf-8")
    return target


def _page_requests(dom: str, proxy: _Proxy) -> dict[str, list[str]]:
    import html
    import json

    def attribute(name: str) -> list[str]:
        found = re.search(name + r'="([^"]*)"', dom)
        assert found, f"the observer did not run ({name} missing)"
        return json.loads(html.unescape(found.group(1)))

    return {"resources": [u for u in attribute("data-resources") if not u.startswith(("file:", "data:"))],
            "blocked": attribute("data-blocked"),
            "proxy": [r for r in proxy.requests if not any(h in r for h in BROWSER_HOSTS)]}


def _chromium(url: str, proxy: _Proxy, *extra: str) -> str:
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-default-apps", "--metrics-recording-only", "--no-default-browser-check",
            f"--proxy-server=http://127.0.0.1:{proxy.port}", "--proxy-bypass-list=<-loopback>",
            "--virtual-time-budget=20000", *extra, url]
    out = subprocess.run(args, capture_output=True, text=True, timeout=120)
    return out.stdout


def _results() -> list[Results]:
    rng = np.random.default_rng(0)
    ranking = pd.DataFrame({"rank": [1, 2, 3], "candidate": [HOSTILE, HOSTILE_IMG, "tfidf | none"],
                            "logme": [0.4, 0.1, -0.2], "predicted_accuracy": [0.8, 0.7, 0.6],
                            "predicted_accuracy_low": [0.7, 0.6, 0.5], "predicted_accuracy_high": [0.9, 0.8, 0.7],
                            "probe_accuracy": [0.82, 0.66, 0.61]})
    layers = pd.DataFrame({"layer": ["layer_1", "layer_2", "layer_3"], "dim": 8, "rankme": [3.0, 4.0, 5.0],
                           "cka_prev": [np.nan, 0.9, 0.8], "logme": [0.1, 0.3, 0.2]})
    similarity = pd.DataFrame([{"row": r, "column": c, "measure": "cka", "value": float(rng.uniform())}
                               for r in ("a", HOSTILE) for c in ("a", HOSTILE)])
    elastic = pd.DataFrame({"layer": "output", "compression": ["float32", "int8", "binary"], "dim": 8,
                            "bytes": [32, 8, 1], "quality": [0.9, 0.89, 0.7], "pareto": [True, True, True]})
    return [Results("ranking", ranking, title=f"Ranking on {HOSTILE}", settings={"dataset": HOSTILE, "seed": 0}),
            Results("layers", layers, title="Layers"), Results("similarity", similarity, title="CKA"),
            Results("elastic", elastic, title="Elastic")]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    page = write_report(_results(), folder / "report.html", title=f"Report for {HOSTILE}")
    proxy = _Proxy()
    try:
        dom = _chromium(page.as_uri(), proxy, "--dump-dom")
        shot = folder / "shot.png"
        _chromium(page.as_uri(), proxy, f"--screenshot={shot}", "--window-size=1200,2400", "--hide-scrollbars")
        observed = _observed(page, folder / "observed.html")
        requests = _page_requests(_chromium(observed.as_uri(), proxy, "--dump-dom"), proxy)
    finally:
        proxy.close()
    return page, dom, shot, requests


def test_every_plot_is_drawn(rendered):
    page, dom, shot, _ = rendered
    expected = len(re.findall(r'<div class="ts-figure"', page.read_text(encoding="utf-8")))
    assert expected == 6  # ranking: prediction + logme; layers: estimators + similarity to the previous layer; heatmap; front
    assert f'data-figures-drawn="{expected}"' in dom  # the drawing script ran to the end
    drawn = re.findall(r'<div class="ts-figure[^"]*"[^>]*data-drawn="1"', dom)
    assert len(drawn) == expected
    assert dom.count('class="main-svg"') >= expected  # plotly put an SVG into each
    from matplotlib.image import imread

    pixels = imread(shot)
    assert pixels.shape[0] >= 2000 and float(pixels[..., :3].std()) > 0.05  # a picture, not a blank page


def test_no_request_leaves_the_page(rendered):
    *_, requests = rendered
    assert requests == {"resources": [], "blocked": [], "proxy": []}


def test_the_observers_would_see_a_request(tmp_path):
    """The controls: an external image added to the page is blocked by its policy (and reported),
    and without the policy it is fetched through the proxy, so the empty lists above mean something."""
    page = write_report(_results(), tmp_path / "r.html")
    image = '<img src="http://example.invalid/pixel.png">'
    proxy = _Proxy()
    try:
        kept = _page_requests(_chromium(_observed(page, tmp_path / "a.html", inject=image).as_uri(), proxy,
                                        "--dump-dom"), proxy)
        assert any("example.invalid" in u for u in kept["blocked"]) and kept["proxy"] == []
        _chromium(_observed(page, tmp_path / "b.html", inject=image, keep_csp=False).as_uri(), proxy, "--dump-dom")
    finally:
        proxy.close()
    assert any("example.invalid" in r for r in proxy.requests)


def test_hostile_labels_stay_text(rendered):
    _, dom, _, _ = rendered
    # no label ran as code: the title is the one written, not "pwned"
    assert '<title>Report for &lt;script&gt;document.title="pwned"&lt;/script&gt;</title>' in dom
    executable = re.findall(r"<script(?![^>]*application/json)[^>]*>(.*?)</script>", dom, flags=re.S)
    assert not any("pwned" in s for s in executable)  # no script element holds a label
    assert not re.search(r"<img[^>]*src=\"?x", dom)  # the <img> label made no element
    assert "&lt;script&gt;document.title" in dom  # ... the labels are there, as text
    assert re.search(r"<text[^>]*>[^<]*&lt;script&gt;", dom)  # also inside a plot's SVG
