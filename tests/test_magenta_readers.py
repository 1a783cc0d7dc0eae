"""The TensorFlow V2 and magenta.js readers on checkpoints TensorFlow wrote, intact and damaged."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from musicneurons.cli import main
from musicneurons.errors import CheckpointError, MusicNeuronsError
from musicneurons.model import load_model
from musicneurons.model.magenta import load_magenta_checkpoint
from musicneurons.model.tf_checkpoint import TFCheckpoint, checkpoint_prefix, masked_crc32c
from musicneurons.model.tfjs import TFJSCheckpoint

FIXTURES = Path(__file__).parent / "fixtures" / "magenta"
SMALL = FIXTURES / "cat-mel_2bar_small"
INDEX, DATA = "model.ckpt.index", "model.ckpt.data-00000-of-00001"


@pytest.fixture
def small_copy(tmp_path):
    """A writable copy of the small TensorFlow fixture."""
    return Path(shutil.copytree(SMALL, tmp_path / "ckpt"))


@pytest.fixture
def js_copy(tmp_path):
    """A writable copy of the uint8-quantised magenta.js fixture and its parsed manifest."""
    folder = Path(shutil.copytree(FIXTURES / "mel_2bar_small_js_q1", tmp_path / "js"))
    return folder, json.loads((folder / "weights_manifest.json").read_text())


def write_manifest(folder, manifest):
    (folder / "weights_manifest.json").write_text(json.dumps(manifest))


def test_masked_crc32c_known_value():
    # crc32c("123456789") = 0xe3069283 (RFC 3720 check value), masked as LevelDB does.
    crc = 0xE3069283
    assert masked_crc32c(b"123456789") == (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def test_index_entries_and_lazy_reads():
    ckpt = TFCheckpoint(SMALL)
    assert ckpt.prefix == str(SMALL / "model.ckpt") and ckpt.num_shards == 1
    assert ckpt.names() == sorted(ckpt.names()) and len(ckpt.names()) == 51
    entry = ckpt.entries["encoder/mu/kernel"]
    assert (entry.dtype_name, entry.shape, entry.shard, entry.size) == ("float32", (32, 8), 0, 32 * 8 * 4)
    kernel = ckpt.read("encoder/mu/kernel")
    assert isinstance(kernel, np.memmap) and not kernel.flags.writeable
    raw = np.fromfile(SMALL / DATA, np.uint8)[entry.offset : entry.offset + entry.size].view(np.float32)
    np.testing.assert_array_equal(kernel.ravel(), raw)
    assert ckpt.read("global_step").dtype == np.int64 and ckpt.read("global_step").shape == ()
    # Entries tile the data file with no gap or overlap.
    spans = sorted((e.offset, e.offset + e.size) for e in ckpt.entries.values())
    assert spans[0][0] == 0 and all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    assert spans[-1][1] == (SMALL / DATA).stat().st_size


@pytest.mark.parametrize("given", ["", "model.ckpt", INDEX, DATA])
def test_checkpoint_prefix_forms(given):
    assert checkpoint_prefix(SMALL / given) == str(SMALL / "model.ckpt")


def test_state_file_with_a_foreign_absolute_path(small_copy):
    (small_copy / "checkpoint").write_text('model_checkpoint_path: "/train/run7/model.ckpt"\n')
    assert checkpoint_prefix(small_copy) == str(small_copy / "model.ckpt")


def test_directory_with_two_checkpoints_is_ambiguous(small_copy):
    (small_copy / "checkpoint").unlink()
    shutil.copy(small_copy / INDEX, small_copy / "other.ckpt.index")
    with pytest.raises(CheckpointError, match=r"expected one TensorFlow checkpoint .* found 2"):
        TFCheckpoint(small_copy)


def test_missing_index(tmp_path):
    with pytest.raises(CheckpointError, match="no TensorFlow checkpoint index"):
        TFCheckpoint(tmp_path / "absent.ckpt")


def test_corrupted_index_names_the_file(small_copy):
    data = bytearray((small_copy / INDEX).read_bytes())
    data[40] ^= 0xFF  # inside the first data block
    (small_copy / INDEX).write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"model\.ckpt\.index: corrupt .* crc32c") as info:
        TFCheckpoint(small_copy)
    assert isinstance(info.value, MusicNeuronsError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize("keep, message", [(20, "fewer than a table footer"), (-1, "magic number")])
def test_truncated_index(small_copy, keep, message):
    data = (small_copy / INDEX).read_bytes()
    (small_copy / INDEX).write_bytes(data[:keep])
    with pytest.raises(CheckpointError, match=message):
        TFCheckpoint(small_copy)


def test_truncated_data_file_names_the_file_and_variable(small_copy):
    size = (small_copy / DATA).stat().st_size
    with open(small_copy / DATA, "r+b") as fh:
        fh.truncate(size // 2)
    ckpt = TFCheckpoint(small_copy)
    last = max(ckpt.entries.values(), key=lambda e: e.offset)
    with pytest.raises(CheckpointError, match=rf"{DATA}: truncated data file: variable '{last.name}'"):
        ckpt.read(last.name)
    with pytest.raises(CheckpointError, match=r"truncated data file"):
        load_magenta_checkpoint(small_copy)


def test_corrupted_data_fails_the_checksum(small_copy):
    ckpt = TFCheckpoint(small_copy)
    entry = ckpt.entries["encoder/sigma/bias"]
    data = bytearray((small_copy / DATA).read_bytes())
    data[entry.offset + 3] ^= 0x01
    (small_copy / DATA).write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="'encoder/sigma/bias' fails its crc32c check"):
        TFCheckpoint(small_copy).read("encoder/sigma/bias")
    assert TFCheckpoint(small_copy).read("encoder/sigma/bias", verify=False).shape == (8,)


def test_missing_data_file(small_copy):
    (small_copy / DATA).unlink()
    with pytest.raises(CheckpointError, match=rf"{DATA}: the checkpoint's data file is missing"):
        TFCheckpoint(small_copy)


def test_absent_variable():
    with pytest.raises(CheckpointError, match="has no variable 'encoder/nope'"):
        TFCheckpoint(SMALL).read("encoder/nope")


def test_tfjs_dequantises_uint8(js_copy):
    folder, manifest = js_copy
    spec = manifest[0]["weights"][0]
    q = spec["quantization"]
    shards = np.concatenate([np.fromfile(folder / path, np.uint8) for path in manifest[0]["paths"]])
    codes = shards[: int(np.prod(spec["shape"]))]  # 6784 bytes: straddles shards 1 and 2
    expected = (codes.astype(np.float64) * q["scale"] + q["min"]).astype(np.float32).reshape(spec["shape"])
    np.testing.assert_array_equal(TFJSCheckpoint(folder).read(spec["name"]), expected)


def test_tfjs_shapes_follow_the_manifest():
    ckpt = TFJSCheckpoint(FIXTURES / "hierdec_js_q2" / "weights_manifest.json")
    manifest = json.loads((FIXTURES / "hierdec_js_q2" / "weights_manifest.json").read_text())
    assert ckpt.shapes() == {w["name"]: tuple(w["shape"]) for w in manifest[0]["weights"]}
    assert all(w["quantization"]["dtype"] == "uint16" for w in manifest[0]["weights"])


def test_tfjs_missing_manifest(tmp_path):
    with pytest.raises(CheckpointError, match="no magenta.js weights_manifest.json found"):
        TFJSCheckpoint(tmp_path)


def test_tfjs_malformed_manifest(js_copy):
    folder, _ = js_copy
    (folder / "weights_manifest.json").write_text('[{"paths": ["a"]')
    with pytest.raises(CheckpointError, match="malformed magenta.js manifest"):
        TFJSCheckpoint(folder)


def test_tfjs_truncated_shard(js_copy):
    folder, _ = js_copy
    last = folder / "group1-shard6of6"
    last.write_bytes(last.read_bytes()[:-10])
    with pytest.raises(CheckpointError, match="group1-shard6of6: truncated shards: weight group 0 needs"):
        TFJSCheckpoint(folder)


def test_tfjs_missing_shard(js_copy):
    folder, _ = js_copy
    (folder / "group1-shard3of6").unlink()
    with pytest.raises(CheckpointError, match="group1-shard3of6: a magenta.js weight shard named in the manifest"):
        TFJSCheckpoint(folder)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("dtype", "string", "unsupported dtype 'string'"),
        ("quantization", {"dtype": "int4", "min": 0, "scale": 1}, "unsupported quantization dtype 'int4'"),
    ],
)
def test_tfjs_unsupported_dtype_names_the_weight(js_copy, field, value, message):
    folder, manifest = js_copy
    manifest[0]["weights"][2][field] = value
    write_manifest(folder, manifest)
    with pytest.raises(CheckpointError, match=message) as info:
        TFJSCheckpoint(folder)
    assert manifest[0]["weights"][2]["name"] in str(info.value)


def test_tfjs_wrong_shape_names_the_variable(js_copy):
    folder, manifest = js_copy
    spec = next(w for w in manifest[0]["weights"] if w["name"] == "encoder/mu/kernel")
    spec["shape"] = spec["shape"][::-1]  # same bytes, transposed shape
    write_manifest(folder, manifest)
    with pytest.raises(CheckpointError, match=r"encoder/mu/kernel: wrong shape: expected \[32, 8\], found \[8, 32\]"):
        load_magenta_checkpoint(folder)


def test_tfjs_unknown_architecture_is_refused(js_copy):
    folder, manifest = js_copy
    np.zeros(2, np.float32).tofile(folder / "extra.bin")
    manifest.append(
        {
            "paths": ["extra.bin"],
            "weights": [{"name": "encoder/hierarchical_level_0/x", "shape": [2], "dtype": "float32"}],
        }
    )
    write_manifest(folder, manifest)
    with pytest.raises(CheckpointError, match=r"\['encoder/hierarchical_level_0/x'\] have no place"):
        load_magenta_checkpoint(folder)


def test_tfjs_vocabulary_other_than_90_is_refused(js_copy):
    folder, manifest = js_copy
    spec = next(w for w in manifest[0]["weights"] if w["name"] == "decoder/output_projection/bias")
    spec["shape"] = [45, 2]
    write_manifest(folder, manifest)
    with pytest.raises(CheckpointError, match="45 output classes; only 90-class melody models"):
        load_magenta_checkpoint(folder)


def test_tfjs_float16_quantisation_and_several_groups(tmp_path):
    half = np.array([[0.5, -1.25, 3.0e-3]], np.float16)
    whole = np.array([7, -2], np.int32)
    half.tofile(tmp_path / "a.bin")
    whole.tofile(tmp_path / "b.bin")
    write_manifest(
        tmp_path,
        [
            {
                "paths": ["a.bin"],
                "weights": [{"name": "h", "shape": [1, 3], "dtype": "float32", "quantization": {"dtype": "float16"}}],
            },
            {"paths": ["b.bin"], "weights": [{"name": "i", "shape": [2], "dtype": "int32"}]},
        ],
    )
    ckpt = TFJSCheckpoint(tmp_path)
    assert ckpt.names() == ["h", "i"] and "h" in ckpt and "x" not in ckpt
    np.testing.assert_array_equal(ckpt.read("h"), half.astype(np.float32))
    assert ckpt.read("h").dtype == np.float32
    np.testing.assert_array_equal(ckpt.read("i"), whole)


# Safe loading: every path a checkpoint names stays inside its folder; every manifest field is checked.


@pytest.mark.parametrize(
    "name, message",
    [
        (
            "../../../../../../etc/passwd",
            r"\[0\]\.paths\[0\]: '\.\./\.\./\.\./\.\./\.\./\.\./etc/passwd' leads outside the model folder",
        ),
        ("/etc/passwd", r"\[0\]\.paths\[0\]: '/etc/passwd' must be a relative path inside the model folder"),
    ],
)
def test_tfjs_shard_paths_outside_the_folder_are_refused(js_copy, name, message):
    folder, manifest = js_copy
    manifest[0]["paths"][0] = name
    write_manifest(folder, manifest)
    with pytest.raises(CheckpointError, match=message) as info:
        TFJSCheckpoint(folder)
    assert info.value.path == str(folder / "weights_manifest.json")


def test_tfjs_shard_symlinked_outside_the_folder_is_refused(js_copy, tmp_path):
    folder, manifest = js_copy
    outside = tmp_path / "elsewhere.bin"
    shard = folder / manifest[0]["paths"][0]
    outside.write_bytes(shard.read_bytes())
    shard.unlink()
    shard.symlink_to(outside)
    with pytest.raises(CheckpointError, match=rf"\[0\]\.paths\[0\]: '{shard.name}' leads outside the model folder"):
        TFJSCheckpoint(folder)


def test_the_traversal_manifest_never_reaches_the_weights(js_copy, capsys):
    folder, manifest = js_copy
    manifest[0]["paths"][0] = "../../../../../../etc/passwd"
    write_manifest(folder, manifest)
    assert main(["import-magenta", str(folder), "--out", str(folder.parent / "imported")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(
        f"musicneurons import-magenta: error: {folder / 'weights_manifest.json'}: "
        f"[0].paths[0]: '../../../../../../etc/passwd' leads outside"
    )
    assert not (folder.parent / "imported").exists()


def _mu_bias(manifest):
    return next(w for w in manifest[0]["weights"] if w["name"] == "encoder/mu/bias")


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda m: m[0]["weights"].insert(0, {"name": "encoder/mu/bias/Adam", "shape": [-4, 2], "dtype": "float32"}),
            r"\[0\]\.weights\[0\] \('encoder/mu/bias/Adam'\)\.shape: \[-4, 2\] must be a list of non-negative integers",
        ),
        (lambda m: m[0]["weights"].append(dict(_mu_bias(m))), r"\.name: 'encoder/mu/bias' is named twice"),
        (lambda m: _mu_bias(m).update(shape="8"), r"\('encoder/mu/bias'\)\.shape: expected list, got '8'"),
        (lambda m: _mu_bias(m).update(shape=[8.5]), r"\.shape: \[8\.5\] must be a list of non-negative integers"),
        (lambda m: _mu_bias(m).update(shape=[True]), r"\.shape: \[True\] must be a list of non-negative integers"),
        (lambda m: _mu_bias(m).pop("name"), r"\[0\]\.weights\[\d+\]\.name: expected str, got None"),
        (
            lambda m: _mu_bias(m)["quantization"].pop("scale"),
            r"\('encoder/mu/bias'\)\.quantization\.scale: expected a finite",
        ),
        (
            lambda m: _mu_bias(m)["quantization"].update(min="0"),
            r"\.quantization\.min: expected a finite number, got '0'",
        ),
        (lambda m: _mu_bias(m)["quantization"].update(scale=float("nan")), r"\.quantization\.scale: expected a finite"),
        (lambda m: _mu_bias(m).update(quantization="uint8"), r"unsupported quantization dtype 'uint8'"),
        (lambda m: _mu_bias(m).update(dtype="int32"), r"\.quantization: only float32 weights are quantised, not int32"),
        (lambda m: m[0].update(weights={"a": 1}), r"\[0\]\.weights: expected list, got \{'a': 1\}"),
        (lambda m: m[0].update(paths="group1-shard1of6"), r"\[0\]\.paths: expected list, got 'group1-shard1of6'"),
        (lambda m: m[0]["paths"].append(7), r"\[0\]\.paths\[6\]: 7 must be a relative path"),
        (lambda m: m.append("group"), r"\[1\]: expected a weight group object, got 'group'"),
        (lambda m: m[0]["weights"].pop(), r"\[0\]\.paths: the shards hold \d+ bytes, the weights of the group \d+"),
    ],
)
def test_each_malformed_manifest_field_is_a_checkpoint_error(js_copy, edit, message):
    folder, manifest = js_copy
    edit(manifest)
    write_manifest(folder, manifest)
    with pytest.raises(CheckpointError, match=message) as info:
        TFJSCheckpoint(folder)
    assert str(folder / "weights_manifest.json") in str(info.value)


def test_a_manifest_that_is_not_a_list_is_refused(js_copy):
    folder, _ = js_copy
    (folder / "weights_manifest.json").write_text('{"paths": []}')
    with pytest.raises(
        CheckpointError, match="malformed magenta.js manifest: expected a list of weight groups, got dict"
    ):
        TFJSCheckpoint(folder)


def test_a_state_file_pointing_outside_is_never_followed(small_copy, tmp_path):
    elsewhere = Path(shutil.copytree(SMALL, tmp_path / "elsewhere"))
    (small_copy / INDEX).rename(small_copy / "other.index")  # two index files: the state file decides
    shutil.copy(small_copy / "other.index", small_copy / INDEX)
    (small_copy / "checkpoint").write_text('model_checkpoint_path: "../elsewhere/model.ckpt"\n')
    with pytest.raises(
        CheckpointError, match=r"model_checkpoint_path: '\.\./elsewhere/model\.ckpt' leads outside"
    ) as info:
        TFCheckpoint(small_copy)
    assert info.value.path == str(small_copy / "checkpoint") and (elsewhere / INDEX).is_file()


def test_a_state_file_with_the_training_machines_absolute_path_is_looked_up_beside_it(small_copy):
    (small_copy / "checkpoint").write_text('model_checkpoint_path: "/home/magenta/train/model.ckpt"\n')
    assert TFCheckpoint(small_copy).prefix == str(small_copy / "model.ckpt")


def test_a_non_utf8_state_file_is_a_checkpoint_error(small_copy, capsys):
    (small_copy / "checkpoint").write_bytes(b'model_checkpoint_path: "\xff\xfemodel.ckpt"\n')
    with pytest.raises(CheckpointError, match=r"checkpoint: the checkpoint state file is not UTF-8 text \(byte 24\)"):
        TFCheckpoint(small_copy)
    assert main(["import-magenta", str(small_copy), "--out", str(small_copy / "out")]) == 1
    assert capsys.readouterr().err.startswith(f"musicneurons import-magenta: error: {small_copy / 'checkpoint'}: ")


def test_an_index_symlinked_outside_is_refused(small_copy, tmp_path):
    outside = tmp_path / "outside.index"
    shutil.move(small_copy / INDEX, outside)
    (small_copy / INDEX).symlink_to(outside)
    with pytest.raises(CheckpointError, match="the index file: 'model.ckpt.index' leads outside the model folder"):
        TFCheckpoint(small_copy)


def test_load_model_names_a_missing_index(small_copy):
    (small_copy / INDEX).unlink()
    with pytest.raises(CheckpointError, match=rf"no TensorFlow checkpoint index '{small_copy / INDEX}' exists"):
        load_model(small_copy / "model.ckpt")
