"""The report's traversal section: what moving a neuron does, seen as piano rolls and heard.

For one window length: the summary line of every swept neuron, the phik matrix beside the
monotonicity matrix, the strongest intervention curves, the attribute vectors against the neurons, and
per neuron a row of piano rolls along the grid for each anchor with audio, with a player that plays
the sweep from the lowest to the highest value. Audio clips are embedded once each (a JSON list of
``data:`` URIs) and the players refer to them by index (a small script per section moves a player to
the next clip when one ends); without JavaScript a player still plays its first clip. Every text from
the data is escaped.
"""

import base64
import json
from html import escape
from pathlib import Path

from ..interventions.explorer import direction_titles
from ..interventions.rolls import pitch_range, roll_svg

__all__ = ["traversal_section", "REPORT_ANCHORS"]

REPORT_ANCHORS = 2  # rows (anchors) per neuron in the report; the explorer has them all

_STYLE = """<style>
.trav-row{display:flex;gap:2px;align-items:flex-end;overflow-x:auto;margin:.2em 0}
.trav-row figure{margin:0;text-align:center;font-size:.7em;color:#555}.trav-row svg{border:1px solid #e4e4e4}
.trav-row figure.playing svg{outline:2px solid #e8a000}
.trav-lines li{margin:.2em 0}
</style>"""

_SCRIPT = """<script>
(() => {
  const clips = JSON.parse(document.getElementById("STORE").textContent);
  for (const player of document.querySelectorAll('audio[data-store="STORE"]')) {
    const order = JSON.parse(player.dataset.clips), row = document.getElementById(player.dataset.row);
    let at = 0;
    const mark = () => row.querySelectorAll("figure").forEach(
      (f, k) => f.classList.toggle("playing", k === order[at][0]));
    player.addEventListener("ended", () => {
      at = (at + 1) % order.length;
      player.src = clips[order[at][1]];
      mark();
      if (at > 0) player.play();
    });
    player.addEventListener("play", mark);
  }
})();
</script>"""


def _img(path, alt):
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{escape(alt)}">'


def _fmt(value, spec="+.2f"):
    try:
        return format(float(value), spec)
    except (TypeError, ValueError):
        return "-"


def _rows(results, label, anchors, clips, store, prefix):
    """Roll rows (and players) of one direction over ``anchors``; fills ``clips`` (data URIs, deduplicated)."""
    trav, grid = results.traversal, results.info["grid"]
    html = []
    for anchor in anchors:
        sweep = trav[(trav["direction"] == label) & (trav["anchor"] == anchor)].sort_values("step")
        if sweep.empty:
            continue
        low, high = pitch_range(sweep["events"])
        row_id = f"{prefix}-{label.replace(':', '-')}-a{anchor}"
        figures = "".join(
            f"<figure>{roll_svg(ev, low, high, 64, 44, f'{label} at {v:+.2f}, anchor {anchor}')}"
            f"<figcaption>{v:+.1f}</figcaption></figure>"
            for ev, v in zip(sweep["events"], sweep["value"])
        )
        order = []
        for step in sweep["step"]:
            path = results.clip(label, anchor, int(step))
            if path is not None:
                data = f"data:audio/ogg;base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"
                order.append([int(step), clips.setdefault(data, len(clips))])
        player = ""
        if order:
            first = next(uri for uri, k in clips.items() if k == order[0][1])
            values = sorted({grid[s] for s, _ in order})
            player = (
                f'<audio controls preload="none" src="{first}" data-store="{store}" data-row="{row_id}" '
                f"data-clips='{json.dumps(order)}' aria-label=\"{escape(label)} sweep, anchor {anchor}\"></audio>"
                f" <small>plays the sweep {values[0]:+g} to {values[-1]:+g}"
                f"{'' if len(values) == len(grid) else f' ({len(values)} of the {len(grid)} values)'}</small>"
            )
        html.append(f'<p><b>anchor {anchor}</b> {player}</p><div class="trav-row" id="{row_id}">{figures}</div>')
    return "".join(html)


def traversal_section(results, bars, names=None, explorer_href=None):
    """HTML of the traversal section of one window length.

    Parameters
    ----------
    results : TraversalResults
    bars : int
    names : dict of str to str, optional
        Feature id -> name.
    explorer_href : str, optional
        Relative link to the explorer page.

    Returns
    -------
    str
    """
    info = results.info
    label = info["label"]
    prefix = f"trav{bars}"
    store = f"{prefix}-clips"
    titles = direction_titles(results, names)
    parts = [
        _STYLE,
        f'<h3 id="{prefix}">Moving a neuron: traversals of the {escape(label)}</h3>',
        f"<p>Each anchor window (seeded, spread over the data) is decoded (argmax) with one neuron set to "
        f"{info['grid'][0]:+g} .. {info['grid'][-1]:+g} prior sd in {len(info['grid'])} steps and every other "
        f"neuron at the anchor's mu; the features of the decoded windows against the swept value give the "
        f"interventional counterpart of the correlations."
        + (
            f" Neuron {info['control']} (largest mean sigma) is swept as a control."
            if info.get("control") is not None
            else ""
        )
        + "</p>",
        f'<p><a href="{escape(explorer_href)}">Open the explorer</a>: pick a neuron and an anchor, move the '
        f"slider, see and hear the decoded window.</p>"
        if explorer_href
        else "",
    ]
    parts.append(
        '<ul class="trav-lines">'
        + "".join(f"<li>{escape(str(line))}</li>" for line in results.summaries["line"])
        + "</ul>"
    )
    audio = info["audio"]
    if audio.get("off_reason"):
        parts.append(f"<p><em>{escape(audio['off_reason'])}</em></p>")
    for name, caption in (
        (
            "intervention_matrices",
            "phik of the swept neurons with the input's features (top) and "
            "the monotonicity of the decoded windows' features along the sweep (bottom): same neurons, "
            "same features, same order.",
        ),
        (
            "intervention_curves",
            "The strongest intervention curves: mean decoded feature over the "
            "anchors (band: one sd) against the swept value.",
        ),
    ):
        if name in results.figures:
            parts.append(
                f"<figure>{_img(results.figures[name], name)}<figcaption>{escape(caption)}</figcaption></figure>"
            )
    if len(results.attributes):
        table = results.attributes.to_html(index=False, escape=True, float_format=lambda v: f"{v:+.3f}", border=0)
        parts += [
            "<h4>Attribute vectors against the best single neuron, moved (monotonicity on the vector's own "
            "feature)</h4>",
            table,
        ]
    clips = {}
    anchors = audio.get("anchors", [])[:REPORT_ANCHORS] or [0]
    for neuron in info["neurons"] + ([info["control"]] if info.get("control") is not None else []):
        lab = f"n{neuron}"
        parts += [f"<h4>{escape(titles.get(lab, lab))}</h4>", _rows(results, lab, anchors, clips, store, prefix)]
    ordered = sorted(clips, key=clips.get)
    payload = json.dumps(ordered).replace("<", "\\u003c")
    parts.append(f'<script type="application/json" id="{store}">{payload}</script>')
    parts.append(_SCRIPT.replace("STORE", store))
    return "\n".join(parts)
