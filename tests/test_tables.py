"""Our Parquet tables: TableWriter's streamed table reads exactly like save_table's, and is atomic."""

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from musicneurons import __version__
from musicneurons.tables import PARTIAL_SUFFIX, TableWriter, load_metadata, read_table, save_table


def batch(start, n):
    """Rows start..start+n-1: scalar columns and an int8 events array of shape (n, 4)."""
    rows = np.arange(start, start + n)
    df = pd.DataFrame({"file": [f"f{i}.mid" for i in rows], "window": rows, "tempo": rows * 1.5})
    return df, {"events": (rows[:, None] * 4 + np.arange(4)).astype(np.int8)}


def test_streamed_groups_read_like_one_saved_table(tmp_path):
    groups = [batch(0, 3), batch(3, 0), batch(3, 2)]
    with TableWriter(tmp_path / "streamed.parquet", {"bars": 2}) as table:
        for df, arrays in groups:
            table.write(df, arrays)
    whole = pd.concat([df for df, _ in groups], ignore_index=True)
    save_table(
        tmp_path / "saved.parquet", whole, {"events": np.concatenate([a["events"] for _, a in groups])}, {"bars": 2}
    )
    streamed, saved = read_table(tmp_path / "streamed.parquet"), read_table(tmp_path / "saved.parquet")
    pd.testing.assert_frame_equal(streamed[0], saved[0])
    np.testing.assert_array_equal(streamed[1]["events"], saved[1]["events"])
    assert streamed[1]["events"].dtype == np.int8 and streamed[1]["events"][4].tolist() == [16, 17, 18, 19]
    assert streamed[2] == saved[2] == {"bars": 2, "version": __version__}
    assert pq.ParquetFile(tmp_path / "streamed.parquet").num_row_groups == 2  # the empty batch adds none


def test_only_empty_batches_give_an_empty_table_with_the_schema(tmp_path):
    with TableWriter(tmp_path / "t.parquet") as table:
        table.write(*batch(0, 0))
    scalars, arrays, meta = read_table(tmp_path / "t.parquet")
    assert list(scalars.columns) == ["file", "window", "tempo"] and len(scalars) == 0
    assert arrays["events"].shape == (0, 4) and meta == {"version": __version__}


def test_an_exception_leaves_the_old_table_and_no_partial_file(tmp_path):
    path = tmp_path / "t.parquet"
    save_table(path, *batch(0, 2), {"run": "old"})
    with pytest.raises(KeyboardInterrupt):
        with TableWriter(path, {"run": "new"}) as table:
            table.write(*batch(0, 5))
            raise KeyboardInterrupt
    assert load_metadata(path)["run"] == "old" and len(read_table(path)[0]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.parquet"]
    assert not list(tmp_path.glob(f"*{PARTIAL_SUFFIX}"))


def test_nothing_written_is_an_error_naming_the_file(tmp_path):
    with pytest.raises(ValueError, match=r"t\.parquet: nothing was written"):
        with TableWriter(tmp_path / "t.parquet"):
            pass
    assert list(tmp_path.iterdir()) == []
