"""``report.html``: one self-contained page, rendered from a jinja2 template.

Figures are embedded as PNG (the SVG files sit beside it); tables put a value's
spread under it so that they stay narrow (the page fits 1280 pixels); every text
is escaped by the template.
"""

from __future__ import annotations

import base64

__all__: list[str] = []

TEMPLATE = r"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em auto;
max-width:1180px;color:#222;padding:0 1em;line-height:1.4}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.84em;margin:.4em 0 1.2em}
th,td{padding:.25em .55em;border-bottom:1px solid #ddd;text-align:right;
vertical-align:top}
th{background:#f3f3f3;font-weight:600}td:first-child,th:first-child{text-align:left}
td small{color:#777;display:block}
table.meta td,table.meta th{text-align:left}table.meta td{overflow-wrap:anywhere}
figure{margin:.5em 0 1.5em}img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.88em;color:#444}
li{overflow-wrap:anywhere}code{background:#f6f6f6;padding:0 .2em}
.warn{color:#a40}
</style></head><body>
<h1>{{ title }}</h1>
<table class="meta">{% for k, v in meta.items() %}
<tr><th>{{ k }}</th><td>{{ v }}</td></tr>
{% endfor %}</table>
{% for f in figures %}<h2>{{ f.title }}</h2><figure>
<img alt="{{ f.title }}" src="data:image/png;base64,{{ f.png }}">
<figcaption>{{ f.caption }}
(<code>{{ f.stem }}.svg</code>, <code>{{ f.stem }}.png</code>)
</figcaption></figure>
{% endfor %}
{% for t in tables %}<h2>{{ t.title }}</h2>{% if t.text %}<p>{{ t.text }}</p>{% endif %}
{% if t.rows %}<table><tr>{% for h in t.headers %}
<th>{{ h|replace("\n", " ") }}</th>{% endfor %}</tr>
{% for row in t.rows %}<tr>{% for main, below in row %}<td>{{ main }}{% if below %}
<small>{{ below }}</small>{% endif %}</td>{% endfor %}</tr>
{% endfor %}</table>{% else %}<p>No successful runs.</p>{% endif %}
{% endfor %}
{% if warnings %}<h2>Warnings</h2><p class="warn">{{ warnings|length }} run(s) raised
warnings; a run that missed its bound says so here.</p><ul>
{% for run_id, messages in warnings.items() %}<li><code>{{ run_id }}</code><ul>
{% for m in messages %}<li>{{ m }}</li>{% endfor %}</ul></li>{% endfor %}</ul>
{% endif %}
{% if notes %}<h2>Notes</h2><ul>{% for n in notes %}<li>{{ n }}</li>{% endfor %}</ul>
{% endif %}
<p>Rows: <code>results.csv</code>, <code>summary.csv</code>, <code>results.json</code>
(with trajectories and per-group statistics); one file per run in
<code>runs/</code>.</p>
</body></html>
"""


def html_report(*, title, meta, tables, figures, warnings, notes) -> str:
    """Render the page.

    ``meta``: settings shown as a two-column table; ``tables``: dicts of ``title``,
    ``text``, ``headers`` and ``rows`` (cells ``(main, below)``); ``figures``: dicts
    of ``title``, ``caption``, ``stem`` and ``png`` (bytes); ``warnings``: run id ->
    its messages; ``notes``: a list of texts.
    """
    import jinja2

    env = jinja2.Environment(autoescape=True, trim_blocks=True)
    return env.from_string(TEMPLATE).render(
        title=title,
        meta=meta,
        tables=tables,
        warnings=warnings,
        notes=notes,
        figures=[f | {"png": base64.b64encode(f["png"]).decode()} for f in figures],
    )
