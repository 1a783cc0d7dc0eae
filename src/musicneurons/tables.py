"""Our own Parquet tables: atomic save, streamed writing, load with metadata, array columns as fixed-size lists.

Every stage of the study reads and writes one of these. Array columns (``events``, ``mu``, ``sigma``)
are Arrow fixed-size lists, so a column of n rows of width w loads as ``ndarray of shape (n, w)``
without a Python loop. Table metadata (a JSON dict under the schema key ``musicneurons``) records
settings, seeds and the package version, and for the study's tables their ``kind`` (``windows``,
``latents``, ``features``) and ``schema`` version (:func:`kind_metadata`), which every reader checks
(:func:`check_kind`): a table of another kind is refused with one line naming it. :func:`save_table` writes a whole table at once;
:class:`TableWriter` writes one row group at a time, for tables larger than memory.
"""

import json
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from . import __version__
from .errors import TableError
from .rundir import PARTIAL_SUFFIX, atomic_path

__all__ = [
    "save_table",
    "TableWriter",
    "read_table",
    "read_rows",
    "row_count",
    "load_table",
    "load_metadata",
    "array_column",
    "array_column_from_arrow",
    "kind_metadata",
    "check_kind",
    "SCHEMA_VERSION",
    "PARTIAL_SUFFIX",
]

_META_KEY = b"musicneurons"
SCHEMA_VERSION = 1  # of the windows, latents and features tables; raised when their columns change meaning


def kind_metadata(kind, metadata=None):
    """``metadata`` plus the table's ``kind`` and :data:`SCHEMA_VERSION` (a new dict).

    Parameters
    ----------
    kind : {'windows', 'latents', 'features'}
    metadata : dict, optional

    Returns
    -------
    dict
    """
    return {**(metadata or {}), "kind": kind, "schema": SCHEMA_VERSION}


def check_kind(path, metadata, kind):
    """Raise TableError naming ``path`` unless its metadata says it is a ``kind`` table this version reads.

    A table without a ``kind`` (written before tables carried one) passes; its reader checks its columns.

    Parameters
    ----------
    path : str or Path
    metadata : dict
        The table's metadata (:func:`read_table`'s third value).
    kind : {'windows', 'latents', 'features'}
    """
    found = metadata.get("kind")
    if found is None:
        return
    if found != kind:
        raise TableError(path, f"a {found} table where a {kind} table is needed")
    schema = metadata.get("schema")
    if isinstance(schema, bool) or not isinstance(schema, int) or not 1 <= schema <= SCHEMA_VERSION:
        raise TableError(
            path, f"{kind} table of schema {schema!r}; this musicneurons reads schema 1 to {SCHEMA_VERSION}"
        )


def _to_arrow(df, array_columns, metadata):
    """DataFrame plus {name: ndarray (n, w)} plus metadata -> pyarrow Table with fixed-size list columns.

    ``metadata`` (a JSON-able dict, ``version`` added unless given) is stored under :data:`_META_KEY`.
    """
    table = pa.Table.from_pandas(df.reset_index(drop=True), preserve_index=False)
    for name, arr in array_columns.items():
        arr = np.ascontiguousarray(arr)
        if arr.ndim != 2 or arr.shape[0] != len(df):
            raise ValueError(f"array column {name!r} must have shape ({len(df)}, w); got {arr.shape}")
        col = pa.FixedSizeListArray.from_arrays(pa.array(arr.ravel()), arr.shape[1])
        if name in table.column_names:
            table = table.set_column(table.column_names.index(name), name, col)
        else:
            table = table.append_column(name, col)
    meta = dict(metadata or {})
    meta.setdefault("version", __version__)
    return table.replace_schema_metadata({**(table.schema.metadata or {}), _META_KEY: json.dumps(meta).encode()})


def save_table(path, df, arrays=None, metadata=None):
    """Write ``df`` plus array columns atomically to Parquet at ``path``.

    Parameters
    ----------
    path : str or Path
        Destination; written to a temporary ``*.partial`` name beside it and renamed, so a reader
        never sees a half-written file.
    df : DataFrame
        Scalar columns, one row per item.
    arrays : dict of str to ndarray of shape (n_rows, w), optional
        Array columns, stored as fixed-size lists.
    metadata : dict, optional
        JSON-serialisable settings; ``version`` is added.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = _to_arrow(df, arrays or {}, metadata)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    return path


class TableWriter:
    """Write one of our tables row group by row group, atomically: memory stays that of one group.

    Use as a context manager::

        with TableWriter(path, metadata) as table:
            for df, events in batches:
                table.write(df, {"events": events})

    The rows go to a temporary ``*.partial`` name beside ``path``, renamed to ``path`` when the block ends
    without an exception; after an exception (or an interruption) the temporary file is removed and a
    table already at ``path`` is left as it was. The result reads like one :func:`save_table` wrote.

    Parameters
    ----------
    path : str or Path
        Destination.
    metadata : dict, optional
        JSON-serialisable settings; ``version`` is added.
    """

    def __init__(self, path, metadata=None):
        self.path = Path(path)
        self.metadata = metadata
        self._writer = None
        self._first_empty = None
        self._stack = ExitStack()

    def __enter__(self):
        self._tmp = self._stack.enter_context(atomic_path(self.path))
        self._stack.callback(self._close)  # runs first: the file is complete before it is renamed or removed
        return self

    def write(self, df, arrays=None):
        """Append ``df`` plus array columns ({name: ndarray of shape (len(df), w)}) as one row group.

        An empty ``df`` adds no rows; it gives the schema of a table no row is ever written to.
        """
        if not len(df):
            self._first_empty = self._first_empty or (df, arrays)
            return
        table = _to_arrow(df, arrays or {}, self.metadata)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._tmp, table.schema)
        self._writer.write_table(table.cast(self._writer.schema))

    def __exit__(self, exc_type, exc, traceback):
        if exc_type is None and self._writer is None:
            try:
                if self._first_empty is None:
                    raise ValueError(f"{self.path}: nothing was written, not even an empty frame for the schema")
                df, arrays = self._first_empty
                self._writer = pq.ParquetWriter(self._tmp, _to_arrow(df, arrays or {}, self.metadata).schema)
            except BaseException as error:
                self._stack.__exit__(type(error), error, error.__traceback__)
                raise
        return self._stack.__exit__(exc_type, exc, traceback)

    def _close(self):
        if self._writer is not None:
            self._writer.close()


def _unreadable(path, exc):
    """The TableError of a table that failed to open: missing, or not readable Parquet (with the reader's words)."""
    if isinstance(exc, FileNotFoundError) or not Path(path).exists():
        return TableError(path, "not a readable Parquet table (no such file)")
    return TableError(path, f"not a readable Parquet table ({exc})")


def _arrow(path, columns=None):
    """The Arrow table at ``path``; TableError naming the file when it is missing or not readable Parquet."""
    try:
        return pq.read_table(path, columns=columns)
    except (OSError, pa.ArrowException) as exc:
        raise _unreadable(path, exc) from None


def load_metadata(path):
    """Our JSON metadata dict of a table written by :func:`save_table` ({} if none)."""
    try:
        raw = (pq.read_schema(path).metadata or {}).get(_META_KEY)
    except (OSError, pa.ArrowException) as exc:
        raise _unreadable(path, exc) from None
    return json.loads(raw) if raw else {}


def read_table(path, columns=None):
    """Read a table written by :func:`save_table`, array columns as 2-D arrays (no per-row objects).

    Parameters
    ----------
    path : str or Path
    columns : list of str, optional
        Only these columns.

    Returns
    -------
    scalars : DataFrame
        The scalar columns.
    arrays : dict of str to ndarray of shape (n_rows, w)
        Every fixed-size list column, in its stored dtype.
    metadata : dict

    Raises
    ------
    TableError
        When the file is missing, truncated or not Parquet.
    """
    return _split(_arrow(path, columns))


def _split(table):
    """Arrow table -> (scalar DataFrame, {name: ndarray (n, w)} of the fixed-size list columns, metadata)."""
    names = [f.name for f in table.schema if pa.types.is_fixed_size_list(f.type)]
    arrays = {name: array_column_from_arrow(table.column(name)) for name in names}
    meta = json.loads((table.schema.metadata or {}).get(_META_KEY, b"{}"))
    return table.drop_columns(names).to_pandas(), arrays, meta


def row_count(path):
    """Rows of a table, from its Parquet footer (nothing else is read)."""
    try:
        return pq.ParquetFile(path).metadata.num_rows
    except (OSError, pa.ArrowException) as exc:
        raise _unreadable(path, exc) from None


def read_rows(path, start, stop, columns=None):
    """Rows ``start:stop`` of a table, as :func:`read_table` returns them; only their row groups are read.

    Parameters
    ----------
    path : str or Path
    start, stop : int
        Row positions, ``0 <= start <= stop``.
    columns : list of str, optional

    Returns
    -------
    scalars : DataFrame of stop - start rows (fewer past the end)
    arrays : dict of str to ndarray of shape (stop - start, w)
    metadata : dict
    """
    try:
        parquet = pq.ParquetFile(path)
        groups, first, offset = [], 0, 0
        for g in range(parquet.metadata.num_row_groups):
            n = parquet.metadata.row_group(g).num_rows
            if offset < stop and offset + n > start:
                first = first if groups else offset
                groups.append(g)
            offset += n
        table = parquet.read_row_groups(groups, columns=columns) if groups else parquet.schema_arrow.empty_table()
    except (OSError, pa.ArrowException) as exc:
        raise _unreadable(path, exc) from None
    return _split(table.slice(max(start - first, 0), stop - start))


def load_table(path, columns=None):
    """Read a table written by :func:`save_table` with one array per row in each array column.

    For tables whose rows are handled one by one; :func:`read_table` (and the containers of
    :mod:`musicneurons.contracts`) read array columns as 2-D arrays instead.

    Returns
    -------
    df : DataFrame
        Scalar columns as usual; use :func:`array_column` for array columns.
    metadata : dict
    """
    table = _arrow(path, columns)
    arrays = {f.name: table.column(f.name) for f in table.schema if pa.types.is_fixed_size_list(f.type)}
    scalar = table.drop_columns(list(arrays))
    df = scalar.to_pandas()
    for name, col in arrays.items():
        df[name] = list(array_column_from_arrow(col))
    meta = json.loads((table.schema.metadata or {}).get(_META_KEY, b"{}"))
    return df, meta


def array_column_from_arrow(col):
    """Arrow fixed-size list column of n rows, width w -> ndarray of shape (n, w)."""
    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    width = col.type.list_size
    if len(col) == 0:
        return np.zeros((0, width), col.type.value_type.to_pandas_dtype())
    values = col.flatten().to_numpy(zero_copy_only=False).reshape(len(col), width)
    return values if values.flags.writeable else values.copy()  # Arrow's zero-copy view is read-only


def array_column(df, name):
    """Stack an array column of a loaded table into ``ndarray of shape (n_rows, w)``."""
    values = df[name].to_numpy()
    if len(values) == 0:
        return np.zeros((0, 0))
    return np.stack(values)
