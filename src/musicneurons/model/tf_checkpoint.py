"""Read TensorFlow V2 checkpoints (``.index`` + ``.data-NNNNN-of-NNNNN``) without TensorFlow.

The ``.index`` file is a LevelDB-style sorted table (SSTable). Its entry with the empty key holds a
``BundleHeaderProto`` (number of shards, endianness); every other key is a variable name whose value is a
``BundleEntryProto`` (dtype, shape, shard id, byte offset, byte size, masked crc32c of the bytes). The
tensor bytes lie raw and row-major in the data shard ``<prefix>.data-<shard>-of-<num_shards>``.

Every table block's checksum is checked when the index is opened; a tensor's checksum and bounds are
checked when it is read. Tensors are read lazily through a read-only ``numpy.memmap``, so opening a
500 MB checkpoint costs only its index.
"""

import os
import re
import struct
from dataclasses import dataclass

import google_crc32c
import numpy as np

from ..errors import CheckpointError

__all__ = [
    "CheckpointError",
    "CheckpointReader",
    "MAX_INDEX_BYTES",
    "TensorEntry",
    "TFCheckpoint",
    "checkpoint_prefix",
    "masked_crc32c",
    "path_inside",
]

MAX_INDEX_BYTES = 64 << 20  # read whole; the index of Magenta's largest melody model has about 40 kB
_TABLE_MAGIC = 0xDB4775248B80FB57
_FOOTER_SIZE = 48
_BLOCK_TRAILER_SIZE = 5
_CRC_MASK_DELTA = 0xA282EAD8

# TensorFlow's DataType enum (types.proto) for the dtypes whose bytes are plain little-endian numbers.
_DTYPES = {
    1: np.float32,
    2: np.float64,
    3: np.int32,
    4: np.uint8,
    5: np.int16,
    6: np.int8,
    9: np.int64,
    10: np.bool_,
    17: np.uint16,
    19: np.float16,
    22: np.uint32,
    23: np.uint64,
}
_DTYPE_NAMES = {7: "string", 8: "complex64", 14: "bfloat16", 18: "complex128", 20: "resource", 21: "variant"}


class CheckpointReader:
    """What every checkpoint reader offers: ``entries`` (name -> entry with a ``shape``) and ``read(name)``."""

    entries: dict = {}

    def __contains__(self, name):
        return name in self.entries

    def files(self):
        """Paths of the checkpoint's files (index or manifest first, then the data files)."""
        raise NotImplementedError

    def names(self):
        """Variable names, in the checkpoint's order."""
        return list(self.entries)

    def shapes(self):
        """dict of variable name to shape (tuple of int)."""
        return {name: entry.shape for name, entry in self.entries.items()}

    def read(self, name):
        """The value of variable ``name`` as an ndarray (see the subclasses)."""
        raise NotImplementedError


@dataclass(frozen=True)
class TensorEntry:
    """Where one variable's bytes lie: the decoded ``BundleEntryProto``.

    Attributes
    ----------
    name : str
        The variable's full name, e.g. ``encoder/mu/kernel``.
    dtype_code : int
        TensorFlow's ``DataType`` enum value (1 = float32, 9 = int64, ...).
    shape : tuple of int
        The tensor's shape.
    shard : int
        Index of the data shard that holds the bytes.
    offset : int
        Byte offset of the tensor in that shard.
    size : int
        Number of bytes.
    crc32c : int
        The masked crc32c of the bytes, as TensorFlow stored it.
    sliced : bool
        True for a partitioned variable (its entry lists slices), which this reader does not support.
    """

    name: str
    dtype_code: int
    shape: tuple
    shard: int
    offset: int
    size: int
    crc32c: int
    sliced: bool = False

    @property
    def dtype_name(self):
        """TensorFlow's name of the dtype (``float32``, ``string``...), or ``DataType <n>``."""
        if self.dtype_code in _DTYPES:
            return np.dtype(_DTYPES[self.dtype_code]).name
        return _DTYPE_NAMES.get(self.dtype_code, f"DataType {self.dtype_code}")


def masked_crc32c(data):
    """The crc32c of ``data`` masked as LevelDB and TensorFlow store it.

    Parameters
    ----------
    data : bytes or read-only buffer (e.g. a ``numpy.memmap`` opened with ``mode='r'``)
        The bytes to checksum.

    Returns
    -------
    int
        ``rotate_right(crc, 15) + 0xa282ead8`` modulo 2**32.
    """
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + _CRC_MASK_DELTA) & 0xFFFFFFFF


def _varint(buf, pos):
    """Decode a base-128 varint at ``buf[pos]``; returns (value, next position)."""
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise IndexError("varint runs past the end of its buffer")
        byte = buf[pos]
        result |= (byte & 0x7F) << shift
        pos += 1
        if byte < 0x80:
            return result, pos
        shift += 7


def _proto_fields(buf):
    """Yield (field number, value) of a protobuf message: int for varint/fixed fields, bytes for the rest."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = struct.unpack_from("<Q", buf, pos)[0], pos + 8
        elif wire == 5:
            value, pos = struct.unpack_from("<I", buf, pos)[0], pos + 4
        elif wire == 2:
            length, pos = _varint(buf, pos)
            if pos + length > len(buf):
                raise IndexError("length-delimited field runs past the end of its message")
            value, pos = bytes(buf[pos : pos + length]), pos + length
        else:
            raise ValueError(f"unknown protobuf wire type {wire}")
        yield field, value


def _parse_shape(buf):
    """Dimensions of a ``TensorShapeProto`` (field 2 = repeated Dim, Dim field 1 = size)."""
    dims = []
    for field, value in _proto_fields(buf):
        if field == 3 and value:
            raise ValueError("the shape has unknown rank")
        if field == 2:
            dims.append(dict(_proto_fields(value)).get(1, 0))
    return tuple(dims)


def _parse_entry(name, buf):
    """Decode a ``BundleEntryProto`` into a :class:`TensorEntry`."""
    fields = {"dtype_code": 0, "shape": (), "shard": 0, "offset": 0, "size": 0, "crc32c": 0, "sliced": False}
    keys = {1: "dtype_code", 3: "shard", 4: "offset", 5: "size", 6: "crc32c"}
    for field, value in _proto_fields(buf):
        if field == 2:
            fields["shape"] = _parse_shape(value)
        elif field == 7:
            fields["sliced"] = True
        elif field in keys:
            fields[keys[field]] = value
    return TensorEntry(name=name, **fields)


def _block_entries(block):
    """Yield (key, value) of one SSTable block (prefix-compressed keys, restart array at the end)."""
    (num_restarts,) = struct.unpack_from("<I", block, len(block) - 4)
    limit = len(block) - 4 - 4 * num_restarts
    if limit < 0:
        raise IndexError("the restart array is longer than its block")
    pos, key = 0, b""
    while pos < limit:
        shared, pos = _varint(block, pos)
        unshared, pos = _varint(block, pos)
        value_len, pos = _varint(block, pos)
        if shared > len(key) or pos + unshared + value_len > limit:
            raise IndexError("a table entry runs past the end of its block")
        key = key[:shared] + bytes(block[pos : pos + unshared])
        pos += unshared
        yield key, block[pos : pos + value_len]
        pos += value_len


def _block_at(data, handle):
    """The checksummed contents of the block a ``BlockHandle`` (varint offset, varint size) points at."""
    offset, pos = _varint(handle, 0)
    size, _ = _varint(handle, pos)
    end = offset + size + _BLOCK_TRAILER_SIZE
    if end > len(data):
        raise IndexError(f"a block at bytes {offset}..{end} lies past the end of the file ({len(data)} bytes)")
    kind = data[offset + size]
    (stored,) = struct.unpack_from("<I", data, offset + size + 1)
    if masked_crc32c(bytes(data[offset : offset + size + 1])) != stored:
        raise ValueError(f"the block at byte {offset} fails its crc32c check")
    if kind != 0:
        raise ValueError(f"the block at byte {offset} is compressed (type {kind}); only uncompressed tables are read")
    return data[offset : offset + size]


def _read_table(data):
    """All (key, value) pairs of an SSTable held in ``data`` (bytes), in key order."""
    if len(data) < _FOOTER_SIZE:
        raise IndexError(f"the file has {len(data)} bytes, fewer than a table footer ({_FOOTER_SIZE})")
    footer = data[-_FOOTER_SIZE:]
    if struct.unpack_from("<Q", footer, 40)[0] != _TABLE_MAGIC:
        raise ValueError("the table footer lacks LevelDB's magic number")
    _, pos = _varint(footer, 0)  # skip the metaindex handle (offset, size)
    _, pos = _varint(footer, pos)
    index = _block_at(data, footer[pos:40])
    return [entry for _, handle in _block_entries(index) for entry in _block_entries(_block_at(data, handle))]


def checkpoint_prefix(path):
    """Resolve a checkpoint path to its prefix (the path without ``.index``).

    Parameters
    ----------
    path : str or os.PathLike
        The prefix itself (``dir/model.ckpt``), its ``.index`` or ``.data-*`` file, or a directory that
        holds a TensorFlow ``checkpoint`` state file or exactly one ``.index`` file.

    Returns
    -------
    str
        The prefix: ``prefix + '.index'`` exists.

    Raises
    ------
    CheckpointError
        If no index file can be found from ``path``.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        return _prefix_in_directory(path)
    prefix = re.sub(r"(\.index|\.data-\d{5}-of-\d{5})$", "", path)
    if not os.path.isfile(prefix + ".index"):
        raise CheckpointError(path, f"no TensorFlow checkpoint index {prefix + '.index'!r} exists")
    return prefix


def path_inside(folder, name, file, field):
    """``folder/name`` resolved (symlinks included); CheckpointError naming ``file`` and ``field`` if outside.

    Parameters
    ----------
    folder : str
        The model folder.
    name : str
        A path the checkpoint names, relative to ``folder``.
    file : str
        The file that names it (manifest, state file), for the message.
    field : str
        Where in ``file`` it is named.

    Returns
    -------
    str
        The resolved path, inside ``folder``.
    """
    if not isinstance(name, str) or not name or os.path.isabs(name):
        raise CheckpointError(file, f"{field}: {name!r} must be a relative path inside the model folder")
    root = os.path.realpath(folder)
    resolved = os.path.realpath(os.path.join(root, name))
    if os.path.commonpath([root, resolved]) != root:
        raise CheckpointError(file, f"{field}: {name!r} leads outside the model folder {root}")
    return resolved


def _prefix_in_directory(directory):
    """The prefix named by ``directory/checkpoint``, else the one ``.index`` file in ``directory``.

    The state file's ``model_checkpoint_path`` is followed only inside ``directory`` (symlinks
    resolved): an absolute path of the training machine is looked up beside the state file, as
    TensorFlow does; a path that leads outside the folder is an error.
    """
    state = os.path.join(directory, "checkpoint")
    if os.path.isfile(state):
        try:
            with open(state, encoding="utf-8") as fh:
                match = re.search(r'^model_checkpoint_path:\s*"(.*)"', fh.read(), re.MULTILINE)
        except UnicodeDecodeError as exc:
            raise CheckpointError(state, f"the checkpoint state file is not UTF-8 text (byte {exc.start})") from None
        if match:
            named = match.group(1)
            for candidate in ([named] if not os.path.isabs(named) else []) + [os.path.basename(named)]:
                resolved = path_inside(directory, candidate, state, "model_checkpoint_path")
                if os.path.isfile(resolved + ".index"):
                    return os.path.join(directory, candidate)
    indexes = sorted(name for name in os.listdir(directory) if name.endswith(".index"))
    if len(indexes) != 1:
        raise CheckpointError(
            directory,
            f"expected one TensorFlow checkpoint (*.index file) in the directory; found {len(indexes)}: {indexes}",
        )
    return os.path.join(directory, indexes[0][: -len(".index")])


class TFCheckpoint(CheckpointReader):
    """A TensorFlow V2 checkpoint opened for reading, without TensorFlow.

    Parameters
    ----------
    path : str or os.PathLike
        Anything :func:`checkpoint_prefix` accepts.

    Attributes
    ----------
    prefix : str
        The checkpoint prefix.
    entries : dict of str to TensorEntry
        Every variable of the checkpoint, by name, in the index's (sorted) order; ``names()`` and
        ``shapes()`` list them.
    num_shards : int
        Number of data shards.

    Raises
    ------
    CheckpointError
        If the index is unreadable, larger than :data:`MAX_INDEX_BYTES`, corrupt (checksum, bounds, magic
        number), big-endian, or names a data shard that does not exist.

    Examples
    --------
    >>> ckpt = TFCheckpoint("cat-mel_2bar_big.ckpt")            # doctest: +SKIP
    >>> ckpt.read("encoder/mu/kernel").shape                     # doctest: +SKIP
    (4096, 512)
    """

    def __init__(self, path):
        self.prefix = checkpoint_prefix(path)
        index_path = self.prefix + ".index"
        folder = os.path.dirname(os.path.abspath(self.prefix))
        path_inside(folder, os.path.basename(index_path), index_path, "the index file")
        size = os.path.getsize(index_path)
        if size > MAX_INDEX_BYTES:
            raise CheckpointError(
                index_path, f"{size:,} bytes, more than the {MAX_INDEX_BYTES:,} a checkpoint index may have"
            )
        with open(index_path, "rb") as fh:
            data = fh.read()
        try:
            table = _read_table(data)
            header = dict(_proto_fields(table[0][1])) if table and table[0][0] == b"" else {}
            entries = [_parse_entry(key.decode("utf-8"), value) for key, value in table if key]
        except (IndexError, ValueError, struct.error) as exc:
            raise CheckpointError(index_path, f"corrupt TensorFlow checkpoint index: {exc}") from exc
        if header.get(2, 0) != 0:
            raise CheckpointError(index_path, "the checkpoint was written big-endian; only little-endian is read")
        self.num_shards = header.get(1, 1)
        self.entries = {entry.name: entry for entry in entries}
        self._shards = {}
        for shard in sorted({entry.shard for entry in entries}):
            self._shards[shard] = self._shard_path(shard)

    def files(self):
        """The ``.index`` file, then every data shard in order."""
        return [self.prefix + ".index"] + [path for _, path in sorted(self._shards.items())]

    def _shard_path(self, shard):
        """Path of data shard ``shard``; raises CheckpointError if it is missing."""
        path = f"{self.prefix}.data-{shard:05d}-of-{self.num_shards:05d}"
        if not os.path.isfile(path):
            raise CheckpointError(path, "the checkpoint's data file is missing")
        path_inside(os.path.dirname(os.path.abspath(path)), os.path.basename(path), path, "the data file")
        return path

    def read(self, name, verify=True):
        """One variable's value, read lazily from the data shard.

        Parameters
        ----------
        name : str
            The variable's name.
        verify : bool
            Check the crc32c of the bytes against the index (reads every byte once; about 0.1 s per GB).

        Returns
        -------
        numpy.ndarray
            A read-only array of the variable's shape and dtype, backed by a memory map of the data file.

        Raises
        ------
        CheckpointError
            If the variable is absent, partitioned, of an unsupported dtype (string, bfloat16...), its bytes
            lie outside the data file (truncated file) or disagree with the shape, or fail the checksum.
        """
        entry = self.entries.get(name)
        if entry is None:
            raise CheckpointError(self.prefix, f"the checkpoint has no variable {name!r}")
        where = f"{self.prefix}:{name}"
        if entry.sliced:
            raise CheckpointError(where, "partitioned (sliced) variables are not supported")
        if entry.dtype_code not in _DTYPES:
            raise CheckpointError(
                where,
                f"unsupported dtype {entry.dtype_name}; "
                f"supported: {sorted(np.dtype(t).name for t in _DTYPES.values())}",
            )
        return self._map(entry, where, verify)

    def _map(self, entry, where, verify):
        """Memory-map the bytes of ``entry`` after checking their bounds and checksum."""
        dtype = np.dtype(_DTYPES[entry.dtype_code])
        count = int(np.prod(entry.shape, dtype=np.int64))
        if count * dtype.itemsize != entry.size:
            raise CheckpointError(
                where,
                f"the index gives {entry.size} bytes for a {entry.dtype_name} tensor of "
                f"shape {list(entry.shape)} ({count * dtype.itemsize} bytes)",
            )
        path = self._shards[entry.shard]
        file_size = os.path.getsize(path)
        if entry.offset + entry.size > file_size:
            raise CheckpointError(
                path,
                f"truncated data file: variable {entry.name!r} needs bytes {entry.offset}.."
                f"{entry.offset + entry.size}, the file has {file_size}",
            )
        if entry.size == 0:
            return np.zeros(entry.shape, dtype)
        raw = np.memmap(path, dtype=np.uint8, mode="r", offset=entry.offset, shape=(entry.size,))
        if verify and masked_crc32c(raw) != entry.crc32c:
            raise CheckpointError(path, f"variable {entry.name!r} fails its crc32c check (corrupt data file)")
        return raw.view(dtype).reshape(entry.shape)
