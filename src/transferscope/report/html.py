"""One self-contained HTML file: plotly's JavaScript inlined, every figure's data embedded as
escaped JSON, a Content-Security-Policy that lets no request leave the page, and every user
string escaped by Jinja2's autoescaping (tables through pandas with ``escape=True``)."""

from __future__ import annotations

import datetime as _dt
import json
from typing import Any

import pandas as pd

from transferscope.errors import MissingExtraError
from transferscope.report.figures import plotly_figure
from transferscope.report.sections import Section

__all__ = ["render_html", "CSP", "MAX_TABLE_ROWS"]

#: No request can leave the page: scripts and styles inline only, images as data: URLs.
CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; "
       "font-src data:; connect-src 'none'; form-action 'none'; base-uri 'none'")
MAX_TABLE_ROWS = 500

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{ csp }}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #222; background: #fafafa; }
header { background: #1f3b57; color: #fff; padding: 18px 28px; }
header h1 { margin: 0 0 4px 0; font-size: 22px; }
header p { margin: 0; opacity: .85; font-size: 13px; }
nav { padding: 10px 28px; background: #e9eef3; font-size: 13px; }
nav a { margin-right: 14px; color: #1f3b57; }
main { padding: 8px 28px 40px 28px; max-width: 1200px; }
section { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 14px 20px; margin: 18px 0; }
h2 { font-size: 18px; margin: 4px 0 8px 0; }
.intro { color: #444; font-size: 14px; max-width: 900px; }
.answer { font-size: 15px; background: #eef6ee; border-left: 4px solid #3a7d44; padding: 8px 12px; }
.ts-figure { min-height: 300px; margin: 10px 0; }
.note { color: #666; font-size: 12px; }
details { margin-top: 8px; }
table { border-collapse: collapse; font-size: 12px; margin-top: 6px; }
th, td { border: 1px solid #ddd; padding: 3px 6px; text-align: right; }
th { background: #f0f0f0; }
td:first-child, th:first-child { text-align: left; }
.scroll { overflow-x: auto; }
</style>
<script>{{ plotly_js | safe }}</script>
</head>
<body>
<header><h1>{{ title }}</h1><p>{{ subtitle }}</p></header>
<nav>{% for s in sections %}<a href="#s{{ loop.index }}">{{ s.title }}</a>{% endfor %}<a href="#provenance">Provenance</a></nav>
<main>
{% for line in answers %}<p class="answer">{{ line }}</p>{% endfor %}
{% for s in sections %}
<section id="s{{ loop.index }}">
<h2>{{ s.title }}</h2>
{% if s.intro %}<p class="intro">{{ s.intro }}</p>{% endif %}
{% for f in s.figures %}
<div class="ts-figure" id="fig{{ f.id }}" data-figure="{{ f.id }}"></div>
<script type="application/json" id="fig{{ f.id }}-data">{{ f.json | safe }}</script>
{% if f.note %}<p class="note">{{ f.note }}</p>{% endif %}
{% endfor %}
{% if s.table_html %}<details{% if not s.figures %} open{% endif %}><summary>Table ({{ s.rows }} rows{% if s.cut %}, first {{ max_rows }} shown{% endif %})</summary>
<div class="scroll">{{ s.table_html | safe }}</div></details>{% endif %}
</section>
{% endfor %}
<section id="provenance">
<h2>Provenance</h2>
<p class="intro">Every setting, seed, preprocessing, model identity and library version behind these numbers, as recorded with them.</p>
<div class="scroll">{{ provenance_html | safe }}</div>
</section>
</main>
<script>
(function () {
  var figures = document.querySelectorAll("div.ts-figure");
  for (var i = 0; i < figures.length; i++) {
    var div = figures[i];
    var spec = JSON.parse(document.getElementById(div.id + "-data").textContent);
    Plotly.newPlot(div, spec.data, spec.layout, {responsive: true, displaylogo: false});
    div.setAttribute("data-drawn", "1");
  }
  document.body.setAttribute("data-figures-drawn", String(figures.length));
})();
</script>
</body>
</html>
"""


def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element: no ``<``, ``>`` or ``&`` left to end or open a tag."""
    text = json.dumps(value, allow_nan=False, default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _table_html(table: pd.DataFrame) -> tuple[str, bool]:
    from transferscope.workflows.storage.results import table_html

    return table_html(table, max_rows=MAX_TABLE_ROWS), len(table) > MAX_TABLE_ROWS


def render_html(sections: list[Section], *, title: str, provenance: pd.DataFrame, answers: list[str],
                inputs: list[str]) -> str:
    """The report as one HTML string (module notes)."""
    try:
        import jinja2
        from plotly.offline import get_plotlyjs
    except ImportError:
        raise MissingExtraError("plotly and jinja2", "report") from None
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    counter = 0
    rendered = []
    for section in sections:
        figures = []
        for fig in section.figures:
            counter += 1
            figures.append({"id": counter, "json": _script_json(plotly_figure(fig)), "note": fig.note})
        table_html, cut = _table_html(section.table) if len(section.table.columns) else ("", False)
        rendered.append({"title": section.title, "intro": section.intro, "figures": figures,
                         "table_html": table_html, "cut": cut, "rows": len(section.table)})
    provenance_html, _ = _table_html(provenance)
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    subtitle = f"Written {stamp} from {', '.join(inputs)}" if inputs else f"Written {stamp}"
    plotly_js = get_plotlyjs()
    if "</script" in plotly_js.lower():  # inlined as is (no user data in it): it must not end the element
        raise RuntimeError("this plotly.js build contains '</script'; it cannot be inlined safely")
    from transferscope.workflows.storage.results import visible_text

    marker = "@@transferscope-plotly-js@@"  # plotly.js goes in after the user strings are made visible
    page = env.from_string(_TEMPLATE).render(csp=CSP, title=title, subtitle=subtitle, sections=rendered,
                                             answers=answers, provenance_html=provenance_html,
                                             plotly_js=marker, max_rows=MAX_TABLE_ROWS)
    return visible_text(page).replace(marker, plotly_js, 1)
