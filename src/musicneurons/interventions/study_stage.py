"""The traversal stage of ``musicneurons run`` and its report section, plugged in through the study's hooks.

:func:`study_traversals` is named in :data:`musicneurons.pipeline.EXTRA_STAGES`: after the core stages of
one window length it sweeps the first :data:`STUDY_K` music neurons of that length's model from
:data:`STUDY_ANCHORS` seeded anchors (:func:`~musicneurons.interventions.stage.run_traversals`), into the
run-directory entry ``bars{2,16}/traversals/``, and puts the :class:`TraversalResults` in
``result.extra['traversals']``. :func:`traversal_report` is named in
:data:`musicneurons.report.html.EXTRA_SECTIONS`. The study's settings ``traversals`` (on or off),
``soundfont`` and ``traversal_audio_seconds`` steer it; the smaller defaults than the ``traverse``
command's keep the stage's cost in the default study measured in BENCHMARKS.md.
"""

import numpy as np

from .. import __version__
from .audio import audio_status
from .stage import DEFAULT_K, TraversalResults, choose_neurons, music_neurons, run_traversals

__all__ = ["study_traversals", "traversal_report", "STUDY_K", "STUDY_ANCHORS", "STUDY_AUDIO_SECONDS"]

STUDY_K = DEFAULT_K
STUDY_ANCHORS = 8
STUDY_AUDIO_SECONDS = 600.0


def study_traversals(study, result):
    """The study stage: traversals of one window length (see the module docstring).

    Parameters
    ----------
    study : musicneurons.pipeline.BarsStudy
    result : musicneurons.pipeline.BarsResult
        Its ``latents``, ``features``, ``windows`` and ``keys`` are read; ``extra['traversals']`` and
        ``summary['traversals']`` are set.
    """
    from ..features import catalogue
    from ..rundir import content_key

    settings = study.settings
    if not settings.traversals:
        return
    seconds = STUDY_AUDIO_SECONDS if settings.traversal_audio_seconds is None else settings.traversal_audio_seconds
    font, _ = audio_status(settings.soundfont) if seconds > 0 else (None, "")
    key = content_key(
        "traversals",
        result.keys["latents_real"],
        result.keys["features_real"],
        study.ref.key(),
        STUDY_K,
        STUDY_ANCHORS,
        seconds,
        str(font),
        settings.seed,
        __version__,
    )
    entry = study.entry("traversals", key)

    def traverse_into(path):
        windows, latents = result.windows, result.latents
        choice = choose_neurons(latents.sigma, STUDY_K, music=music_neurons(latents.mu, latents.sigma))
        qpm = windows.tempo if windows.tempo is not None else np.full(len(windows), 120.0)
        run_traversals(
            study.model.decode,
            windows.events,
            qpm,
            latents.mu,
            result.features.values,
            choice,
            path,
            catalogue=catalogue(),
            n_anchors=STUDY_ANCHORS,
            seed=settings.seed,
            audio_seconds=seconds,
            soundfont=font,
            sources=windows.meta,
            title=f"{study.bars}-bar {result.model}",
            progress=settings.progress,
        )
        return len(choice.neurons)

    entry.ensure(lambda path: study._timed("traversals", lambda: traverse_into(path)))
    trav = TraversalResults.load(entry.path)
    result.extra["traversals"] = trav
    result.summary["traversals"] = {
        "label": trav.info["label"],
        "neurons": trav.info["neurons"],
        "control": trav.info["control"],
        "lines": trav.summaries["line"].tolist(),
        "audio_clips": trav.info["audio"]["clips"],
        "audio_off": trav.info["audio"]["off_reason"],
    }


def traversal_report(result):
    """The report section of one window length (HTML), or '' when the stage did not run."""
    from ..features import catalogue
    from ..report.traversals import traversal_section

    trav = result.extra.get("traversals")
    if trav is None:
        return ""
    names = dict(zip(catalogue()["id"], catalogue()["name"]))
    href = f"bars{result.bars}/traversals/explorer.html"
    return traversal_section(trav, result.bars, names, explorer_href=href)
