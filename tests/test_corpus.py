"""The embedded corpus on real music21 pieces: the index, multi-part scores, halved Palestrina, the split."""

import json
from importlib import resources

import numpy as np
import pandas as pd
import pytest

from musicneurons.errors import InvalidParameterError
from musicneurons.melody import extract_windows, notes_to_events
from musicneurons.melody.collect import assemble, collect_windows
from musicneurons.melody.corpus import SELECTIONS, corpus_melodies, corpus_tunes, read_corpus_tune, scale_note_values
from musicneurons.melody.notesequence import NoteSequence
from musicneurons.model.training_data import corpus_split
from musicneurons.tables import array_column

INDEX_COUNTS = {
    "essenFolksong": 1970,
    "oneills1850": 765,
    "ryansMammoth": 347,
    "airdsAirs": 501,
    "miscFolk": 42,
    "nottingham-dataset": 2,
    "bach": 365,
    "monteverdi": 48,
    "palestrina": 1203,
    "josquin": 8,
    "trecento": 14,
    "beethoven": 11,
    "mozart": 7,
    "haydn": 2,
    "schumann_robert": 3,
    "beach": 1,
    "corelli": 1,
    "cpebach": 1,
    "handel": 1,
    "leadSheet": 2,
    "liliuokalani": 1,
    "lusitano": 1,
    "schoenberg": 2,
    "weber": 1,
    "webern": 1,
}


def _item(path, number=None, **extra):
    return {"file": path, "tune": str(number or ""), "number": number, **extra}


def _first_window(ns, bars, instrument):
    """The window starting at bar 0 of one instrument (mode 'all')."""
    res = extract_windows(ns, bars, "all")
    at = [k for k, m in enumerate(res.meta) if m["first_bar"] == 0 and m["instrument"] == instrument]
    assert len(at) == 1
    return res.events[at[0]]


def test_index_counts_per_collection():
    index = json.loads(resources.files("musicneurons.data").joinpath("corpus_index.json").read_text())
    pieces = index["pieces"]
    counts = {c: sum(p.split("/")[0] == c for p, _ in pieces) for c in INDEX_COUNTS}
    assert counts == INDEX_COUNTS and len(pieces) == sum(INDEX_COUNTS.values()) == 5300
    assert not [p for p, _ in pieces if p.endswith(".rntxt") or "_old." in p]  # analyses, superseded files
    assert ["bach/bwv277.krn", None] not in pieces and ["bach/bwv277.mxl", None] in pieces  # no kern twin
    assert sorted(p for p, n in pieces if p.startswith("josquin/") and n is None) == sorted(
        p for p, _ in pieces if p.startswith("josquin/")
    )  # a Josquin file is one piece, its voices read whole
    assert len(corpus_tunes()) == 3627 and len(corpus_tunes(collections="all")) == 5300 - 1203  # no Palestrina
    palestrina = corpus_tunes(collections=["palestrina"])
    assert {t.get("scale") for t in palestrina} == {0.5} and "scale" not in corpus_tunes(max_tunes=1)[0]


def test_selection_errors_name_the_choices():
    with pytest.raises(InvalidParameterError, match="'collections'"):
        corpus_tunes(collections="everything")
    with pytest.raises(InvalidParameterError, match="nope"):
        corpus_tunes(collections=["bach", "nope"])
    assert set(SELECTIONS["folk"]) < set(SELECTIONS["all"])


def test_bach_chorale_gives_one_melody_per_part_with_the_scored_first_window():
    # BWV 66.6 (4/4): a one-quarter pickup, then bar 1. Worked out from the score, in sixteenths from
    # the start of the pickup bar: soprano C#5 B4 (eighths) | A4 B4 C#5 E5; alto E4 | F#4 E4 E4 E4;
    # tenor A3 B3 | C#4 B3 A3 B3; bass A3 G#3 | F#3 G#3 A3 G#3.
    ((key, ns),) = read_corpus_tune(_item("bach/bwv66.6.mxl"))
    assert key == "" and ns.track_names == {0: "Soprano", 1: "Alto", 2: "Tenor", 3: "Bass"}
    assert set(ns.program.tolist()) == {0} and ns.time_signatures == [(0.0, 4, 4)]
    quarters = [(16, 20), (20, 24), (24, 28), (28, 32)]
    scored = {
        0: [(12, 14, 73), (14, 16, 71)] + [(a, b, p) for (a, b), p in zip(quarters, [69, 71, 73, 76])],
        1: [(12, 16, 64)] + [(a, b, p) for (a, b), p in zip(quarters, [66, 64, 64, 64])],
        2: [(12, 14, 57), (14, 16, 59)] + [(a, b, p) for (a, b), p in zip(quarters, [61, 59, 57, 59])],
        3: [(12, 14, 57), (14, 16, 56)] + [(a, b, p) for (a, b), p in zip(quarters, [54, 56, 57, 56])],
    }
    for part, notes in scored.items():
        np.testing.assert_array_equal(_first_window(ns, 2, part), notes_to_events(notes, 32))
    melodies = {m["instrument"] for m in extract_windows(ns, 2, "all").meta}
    assert melodies == {0, 1, 2, 3}


def test_three_four_chorale_is_dropped_with_its_reason(tmp_path):
    stems = collect_windows([_item("bach/bwv269.mxl")], read_corpus_tune, tmp_path, workers=1, progress=False)
    for bars in (2, 16):
        windows, errors = assemble(stems, bars, "all")
        assert windows.empty
        assert errors["reason"].tolist() == ["no section with 16 steps per bar (time signatures: 3/4)"]


def test_palestrina_at_halved_values_gives_bar_aligned_windows():
    # Agnus_01 (4/2), halved to 4/4. Soprano: G4 breve-half, D5 (a semibreve tied to a minim), B4, C5 ...;
    # alto: a semibreve rest, D4, then bar 2 G4, E4, F4. In sixteenths of the halved score:
    ((_, ns),) = read_corpus_tune(_item("palestrina/Agnus_01.krn", scale=0.5))
    assert ns.time_signatures == [(0.0, 4, 4)]
    np.testing.assert_array_equal(
        _first_window(ns, 2, 0), notes_to_events([(0, 8, 67), (8, 20, 74), (20, 24, 71), (24, 36, 72)], 32)
    )
    np.testing.assert_array_equal(
        _first_window(ns, 2, 1), notes_to_events([(8, 16, 62), (16, 24, 67), (24, 28, 64), (28, 32, 65)], 32)
    )
    ((_, whole),) = read_corpus_tune(_item("palestrina/Agnus_01.krn"))
    assert extract_windows(whole, 2).reason == "no section with 16 steps per bar (time signatures: 4/2)"


def test_scale_note_values_keeps_seconds_and_rejects_fractional_meters():
    ns = NoteSequence.from_notes([(0.0, 4.0, 60, 80, 0, 0, False)], [(0.0, 3, 2)], [(0.0, 120.0)])
    half = scale_note_values(ns, 0.5)
    assert (half.start.tolist(), half.end.tolist()) == ([0.0], [2.0])
    assert half.time_signatures == [(0.0, 3, 4)] and half.tempos == [(0.0, 60.0)]
    with pytest.raises(InvalidParameterError, match="denominator 2"):
        scale_note_values(ns, 0.3)


def test_piano_staves_are_one_instrument():
    # Mozart K. 545: music21 reads the piano as two PartStaffs; one instrument, as one MIDI track.
    ((_, ns),) = read_corpus_tune(_item("mozart/k545/movement1_exposition.mxl"))
    assert set(ns.instrument.tolist()) == {0} and len(ns.track_names) == 1
    assert ns.pitch.min() < 48 < 72 < ns.pitch.max()  # both hands


def test_split_by_piece_keeps_all_parts_of_a_piece_on_one_side():
    # Josquin: 8 pieces of 2-5 voices each. Every window of every voice of a piece falls on one side.
    df = corpus_melodies(2, "all", collections=["josquin"], workers=1, progress=False)
    assert df["file"].nunique() == 8 and set(df["tune"]) == {""}
    assert df.groupby("file")["instrument"].nunique().min() >= 2 and df["instrument"].max() >= 3
    train, held = corpus_split(2, holdout=0.5, seed=0, collections=["josquin"])
    as_set = lambda rows: {r.tobytes() for r in rows}  # noqa: E731
    train_set, held_set = as_set(train), as_set(held)
    per_piece = {f: as_set(array_column(g, "events").astype(np.int8)) for f, g in df.groupby("file")}
    held_pieces = [f for f, w in per_piece.items() if not w <= train_set]
    assert 1 <= len(held_pieces) < 8 and not train_set & held_set
    assert held_set == set().union(*(per_piece[f] for f in held_pieces)) - train_set
    assert train_set == set().union(*(w for f, w in per_piece.items() if f not in held_pieces))


# The folk windows that ship with the package (data/folk_*bar.parquet): the whole tables' counts and the
# SHA-256 of their events (first 16 hex digits), as scripts/fixtures/make_folk_windows.py extracted them.
SHIPPED_FOLK = {
    2: {"windows": 18077, "errors": 0, "tunes": 3627, "events_sha256": "ff6d4291f2733437"},
    16: {"windows": 4407, "errors": 1884, "tunes": 1743, "events_sha256": "430aae7949c4711f"},
}
SHIPPED_SUBSET = (31, 160)  # seed and size of the random folk tunes whose extraction the test repeats


def _pieces_of(frame, keys):
    """The rows of ``frame`` whose (file, tune) is in ``keys``, in their order, reindexed."""
    return frame[np.array([k in keys for k in zip(frame["file"], frame["tune"])], bool)].reset_index(drop=True)


@pytest.fixture(scope="module")
def shipped_subset_extraction(tmp_path_factory):
    """Extraction, in an empty cache, of SHIPPED_SUBSET's random folk tunes -> (their keys, collected chunks)."""
    seed, size = SHIPPED_SUBSET
    tunes = corpus_tunes()
    items = [tunes[i] for i in np.sort(np.random.default_rng(seed).choice(len(tunes), size, replace=False))]
    collected = collect_windows(
        items, read_corpus_tune, tmp_path_factory.mktemp("cache"), chunk_size=16, progress=False
    )
    return {(item["file"], item["tune"]) for item in items}, collected


@pytest.mark.parametrize("bars", [2, 16])
def test_shipped_folk_windows_equal_the_extraction(bars, shipped_subset_extraction, tmp_path):
    import hashlib

    import music21

    from musicneurons.contracts import Windows
    from musicneurons.melody.corpus import CORPUS_SOURCE, shipped_folk_windows
    from musicneurons.tables import load_metadata

    path = resources.files("musicneurons.data").joinpath(f"folk_windows_{bars}bar.parquet")
    if load_metadata(path)["music21"] != music21.__version__:
        pytest.skip(f"the shipped windows come from music21 {load_metadata(path)['music21']}")
    windows, errors = shipped_folk_windows(bars)
    expected = SHIPPED_FOLK[bars]
    events = np.stack(windows["events"])
    assert (len(windows), len(errors), windows.groupby(["file", "tune"]).ngroups) == (
        expected["windows"],
        expected["errors"],
        expected["tunes"],
    )
    assert hashlib.sha256(events.tobytes()).hexdigest()[:16] == expected["events_sha256"]
    assert events.shape == (expected["windows"], 16 * bars) and events.dtype == np.int8
    keys, collected = shipped_subset_extraction
    frame, errs = assemble(collected, bars, source=CORPUS_SOURCE)
    mine, my_errors = _pieces_of(windows, keys), _pieces_of(errors, keys)
    assert len(frame) > 100 * (bars == 2) + 30 * (bars == 16)
    np.testing.assert_array_equal(np.stack(mine["events"]), np.stack(frame["events"]))
    pd.testing.assert_frame_equal(mine.drop(columns="events"), frame.drop(columns="events"), check_exact=True)
    pd.testing.assert_frame_equal(my_errors, errs, check_exact=True)
    # the study's melodies table is the same file either way
    a, b = Windows.from_frame(mine).save(tmp_path / "a.parquet"), Windows.from_frame(frame).save(tmp_path / "b.parquet")
    assert a.read_bytes() == b.read_bytes()


def test_default_request_reads_the_shipped_windows_without_parsing(tmp_path, monkeypatch):
    import music21

    from musicneurons.melody import corpus as corpus_module
    from musicneurons.pipeline import real_windows

    monkeypatch.setenv("MUSICNEURONS_CACHE", str(tmp_path))
    shipped, _ = corpus_module.shipped_folk_windows(16)
    windows, errors = real_windows(16, None, 100, None, 0, False)
    assert len(windows) == 100 and len(errors) == SHIPPED_FOLK[16]["errors"]
    rows = np.sort(np.random.default_rng(0).choice(len(shipped), 100, replace=False))
    np.testing.assert_array_equal(windows.events, np.stack(shipped["events"].iloc[rows]))
    assert list(tmp_path.iterdir()) == []  # nothing was parsed into the cache
    corpus_melodies(2, max_tunes=3, progress=False)  # any other request extracts
    assert [p.name for p in tmp_path.iterdir()] == [f"corpus-m21-{music21.__version__}"]
    monkeypatch.setattr(music21, "__version__", "0.0.0")  # another music21: the shipped tables do not apply
    assert corpus_module.shipped_folk_windows(2) is None
