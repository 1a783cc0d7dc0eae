"""``explorer.html``: one self-contained, offline page to move a neuron and see, hear and read what changes.

The page (template ``explorer.html`` beside this module) gets one JSON payload inlined: the grid, the
directions and anchors, every distinct decoded window once (its notes and features), the cells
(direction x anchor x grid value -> window) and the audio clips as ``data:`` URIs. Its script draws the
piano roll, swaps the audio source and fills the feature table as the controls change; every text is
set through ``textContent``, and ``<`` in the payload is written as ``\\u003c``, so names from input files
cannot become markup.
"""

import base64
import json
from pathlib import Path

import numpy as np

from ..melody.events import events_to_notes

__all__ = ["explorer_payload", "write_explorer", "direction_titles", "SHOWN_FEATURES"]

SHOWN_FEATURES = 8
_TEMPLATE = Path(__file__).with_name("explorer.html")


def direction_titles(results, names=None):
    """A readable title per direction label: which neuron (and why it is swept) or which attribute vector."""
    info, names = results.info, names or {}
    titles = {f"n{i}": f"neuron {i} ({rank + 1}. of the {info['label']})" for rank, i in enumerate(info["neurons"])}
    if info.get("control") is not None:
        titles[f"n{info['control']}"] = f"neuron {info['control']} (control: largest mean sigma)"
    for fid in info.get("attributes", []):
        titles[f"attr:{fid}"] = f"attribute vector of {fid}" + (f" ({names[fid]})" if fid in names else "")
    return titles


def _shown(results):
    """Per direction, the features shown: its top |monotonicity| ones plus the one it correlates with most."""
    mono = results.monotonicity.dropna(subset=["monotonicity"])
    top = {}
    for label, part in mono.groupby("direction", sort=False):
        order = part.assign(a=part["monotonicity"].abs()).sort_values("a", ascending=False, kind="stable")
        top[label] = order["feature"].head(SHOWN_FEATURES).tolist()
    for row in results.summaries.itertuples(index=False):
        extra = row.correlates_most if isinstance(row.correlates_most, str) else ""
        if extra and extra not in top.get(f"n{row.neuron}", []):
            top.setdefault(f"n{row.neuron}", []).append(extra)
    for fid in results.info.get("attributes", []):
        if fid not in top.get(f"attr:{fid}", []):
            top.setdefault(f"attr:{fid}", []).insert(0, fid)
    return top


def _number(value):
    return None if value is None or not np.isfinite(value) else round(float(value), 6)


def explorer_payload(results, names=None):
    """The JSON-able payload of the explorer page for a :class:`~musicneurons.interventions.stage.TraversalResults`.

    Returns
    -------
    dict
        ``title``, ``subtitle``, ``footer``, ``steps``, ``grid``, ``features`` (id, name), ``directions``
        (label, title, shown feature indices, their monotonicity), ``anchors`` (title, input and decoded
        window), ``windows`` (``n``: notes [start, end, pitch]; ``f``: shown feature values, null for NaN),
        ``cells`` and ``cellAudio`` (direction x anchor x step -> window / audio index, -1 without audio),
        ``audio`` (data URIs) and ``audioNote``.
    """
    from ..features import compute_features

    names = names or {}
    info, trav = results.info, results.traversal
    shown = _shown(results)
    labels = list(dict.fromkeys(trav["direction"]))
    feature_ids = [f for f in results.decoded.columns if any(f in v for v in shown.values())]
    column = {f: i for i, f in enumerate(feature_ids)}
    windows, index = [], {}

    def window(events, qpm, values):
        """Index of a distinct (events, tempo) window in ``windows``, added on first sight."""
        key = (events.tobytes(), float(qpm))
        if key not in index:
            index[key] = len(windows)
            windows.append({"n": events_to_notes(events).tolist(), "f": [_number(v) for v in values]})
        return index[key]

    decoded = results.decoded[feature_ids].to_numpy(dtype=np.float64)
    cell = [window(ev, q, decoded[k]) for k, (ev, q) in enumerate(zip(trav["events"], trav["qpm"]))]
    anchors = results.anchors
    ref = {
        name: compute_features(
            np.stack(anchors[name].to_numpy()), anchors["qpm"].to_numpy(), features=feature_ids
        ).to_numpy(dtype=np.float64)
        for name in ("events", "decoded")
    }
    anchor_items = [
        {
            "title": _anchor_title(row),
            "input": window(row.events, row.qpm, ref["events"][k]),
            "decoded": window(row.decoded, row.qpm, ref["decoded"][k]),
        }
        for k, row in enumerate(anchors.itertuples(index=False))
    ]
    clips, clip_index, cell_audio = [], {}, np.full(len(trav), -1)
    if results.audio is not None:
        where = {(r.direction, r.anchor, r.step): r.clip for r in results.audio.itertuples(index=False)}
        for k, r in enumerate(trav[["direction", "anchor", "step"]].itertuples(index=False)):
            clip = where.get((r.direction, r.anchor, r.step))
            if clip is not None:
                if clip not in clip_index:
                    clip_index[clip] = len(clips)
                    data = base64.b64encode((results.directory / clip).read_bytes()).decode("ascii")
                    clips.append(f"data:audio/ogg;base64,{data}")
                cell_audio[k] = clip_index[clip]
    shape = (len(labels), len(anchors), len(info["grid"]))
    mono = results.monotonicity.set_index(["direction", "feature"])["monotonicity"]
    titles = direction_titles(results, names)
    return {
        "title": f"musicneurons explorer{': ' + info['title'] if info.get('title') else ''}",
        "subtitle": f"Move one latent direction of the {info['label']} from its anchor's mu over the grid "
        f"{info['grid'][0]:+g}..{info['grid'][-1]:+g} (prior sd), every other neuron at the anchor's "
        f"mu, argmax decoding.",
        "footer": f"{len(labels)} directions x {len(anchors)} anchors x {len(info['grid'])} values; anchors seeded "
        f"with seed {info['seed']}.",
        "steps": int(info["steps"]),
        "grid": info["grid"],
        "features": [{"id": f, "name": names.get(f, "")} for f in feature_ids],
        "directions": [
            {
                "label": lab,
                "title": titles.get(lab, lab),
                "features": [column[f] for f in shown.get(lab, [])],
                "mono": [_number(mono.get((lab, f), np.nan)) for f in shown.get(lab, [])],
            }
            for lab in labels
        ],
        "anchors": anchor_items,
        "windows": windows,
        "cells": np.array(cell).reshape(shape).tolist(),
        "cellAudio": cell_audio.reshape(shape).tolist(),
        "audio": clips,
        "audioNote": _audio_note(info["audio"], info["grid"]),
    }


def _anchor_title(row):
    where = " ".join(str(getattr(row, c)) for c in ("file", "tune") if str(getattr(row, c, "") or ""))
    bar = f", bar {row.first_bar}" if hasattr(row, "first_bar") else ""
    return f"{row.anchor}: {where or 'row ' + str(row.row)}{bar} ({row.qpm:g} qpm)"


def _audio_note(audio, grid):
    """Why a cell has no audio: audio off, or outside the rendered anchors and values."""
    if audio.get("off_reason"):
        return audio["off_reason"]
    values = ", ".join(f"{grid[s]:+g}" for s in audio.get("steps", []))
    anchors = ", ".join(str(a) for a in audio.get("anchors", []))
    return (
        f"No audio here: audio covers the neurons at anchors {anchors or 'none'} and values {values or 'none'} "
        f"(--audio-seconds sets the budget)."
    )


def write_explorer(path, results, names=None):
    """Write the explorer page for ``results`` to ``path``; returns the path."""
    payload = json.dumps(explorer_payload(results, names), separators=(",", ":")).replace("<", "\\u003c")
    page = _TEMPLATE.read_text(encoding="utf-8").replace("/*PAYLOAD*/", payload)
    path = Path(path)
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return path
