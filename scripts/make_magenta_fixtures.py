"""Write Magenta MusicVAE checkpoints with real TensorFlow, plus TensorFlow's own outputs for fixed inputs.

Run by hand where ``tensorflow-cpu`` is installed (it is no dependency of musicneurons)::

    pip install tensorflow-cpu==2.21.0 numpy
    python scripts/make_magenta_fixtures.py tests/fixtures/magenta            # small committed fixtures
    python scripts/make_magenta_fixtures.py /tmp/big --full-size cat-mel_2bar_big   # benchmark input

The small fixtures use Magenta's exact variable names (magenta/models/music_vae/lstm_models.py, see
shared/reference/musicvae.md section 4) for the three layouts with their sizes scaled down:

* ``cat-mel_2bar_small/``, ``cat-mel_2bar_big/``, ``hierdec-mel_16bar/``, ``hier-mel_16bar/`` (the
  HierarchicalLstmEncoder: a bi-LSTM per bar, then one over the 16 bar embeddings): TensorFlow V2 checkpoints
  written by ``tf.compat.v1.train.Saver`` from variables built in nested ``variable_scope``s, together with
  the Adam slots (``<var>/Adam``, ``<var>/Adam_1``), ``beta1_power``, ``beta2_power`` and ``global_step``
  that a training checkpoint holds and an importer must ignore;
* ``mel_2bar_small_js/`` (float32), ``mel_2bar_small_js_q1/`` (uint8) and ``hierdec_js_q2/`` (uint16):
  magenta.js checkpoints of the same weights (``weights_manifest.json`` + shards of 4096 bytes, so weights
  straddle shard boundaries; the real converter uses 4 MiB), Adam/global_step removed as Magenta's
  ``checkpoint_converter.py`` does, and a ``config.json`` as magenta.js ships;
* ``broken/missing_variable``, ``broken/wrong_shape``, ``broken/bfloat16``: checkpoints an importer must
  refuse (see :func:`write_broken`); ``sharded/``: the cat-mel_2bar_small weights in two data files;
* ``reference.npz`` in each folder: ``events`` (n, T) int8 inputs, ``z`` (n, z_size) float32,
  ``mu``/``sigma`` (n, z_size) float32 from the encoder, and ``logits`` (n, T, 90) float32 teacher-forced
  decoder logits for ``z`` and ``events``. They are computed here with ``tf.raw_ops.LSTMBlockCell``
  (the op behind Magenta's ``LSTMBlockCell``: gate blocks i, j, f, o, forget_bias=1.0, no cell clip,
  no peepholes) and TensorFlow dense ops, following Magenta's encoder and decoders; for the quantised
  magenta.js fixtures they are computed from the dequantised weights.

``--full-size NAME`` writes one checkpoint with the real shapes of NAME and random weights (TensorFlow's
own initialisers, Adam slots included), for the import benchmark; nothing else.
"""

import argparse
import json
import os

import numpy as np
import tensorflow as tf

N_CLASSES = 90
BAR_STEPS = 16
SCALED = {
    "cat-mel_2bar_small": dict(enc=[16], dec=[12, 12], z=8, bars=2, hierarchical=False),
    "cat-mel_2bar_big": dict(enc=[16], dec=[12, 12, 12], z=8, bars=2, hierarchical=False),
    "hierdec-mel_16bar": dict(enc=[16, 16], dec=[12, 12], z=8, bars=16, hierarchical=True),
}
# Written after the others with its own seed, so that adding it left the older fixtures' random draws unchanged.
HIER_ENCODER = ("hier-mel_16bar", dict(enc=[16], levels=[16, 16], dec=[12, 12], z=8, bars=16, hierarchical=True))
FULL = {
    "cat-mel_2bar_small": dict(enc=[512], dec=[256, 256], z=256, bars=2, hierarchical=False),
    "cat-mel_2bar_big": dict(enc=[2048], dec=[2048, 2048, 2048], z=512, bars=2, hierarchical=False),
    "hierdec-mel_16bar": dict(enc=[2048, 2048], dec=[1024, 1024], z=512, bars=16, hierarchical=True),
    "hier-mel_16bar": dict(enc=[1024], levels=[16, 16], dec=[1024, 1024], z=512, bars=16, hierarchical=True),
}
JS_SHARD_BYTES = 4096


def lstm_shapes(prefix, in_size, sizes):
    """Kernel [in+H, 4H] and bias [4H] of each layer of a Magenta MultiRNNCell under ``prefix``."""
    shapes = {}
    for k, h in enumerate(sizes):
        shapes[prefix.format(k) + "kernel"] = (in_size + h, 4 * h)
        shapes[prefix.format(k) + "bias"] = (4 * h,)
        in_size = h
    return shapes


def dense_shapes(prefix, in_size, out_size):
    """Kernel [in, out] and bias [out] of a ``tf.layers.dense`` named ``prefix``."""
    return {prefix + "/kernel": (in_size, out_size), prefix + "/bias": (out_size,)}


def flat_decoder_shapes(scope, z, sizes):
    """Variables of a CategoricalLstmDecoder built in ``scope`` and conditioned on a ``z``-wide vector."""
    shapes = dense_shapes(scope + "decoder/z_to_initial_state", z, 2 * sum(sizes))
    shapes.update(lstm_shapes(scope + "decoder/multi_rnn_cell/cell_{}/lstm_cell/", N_CLASSES + z, sizes))
    shapes.update(dense_shapes(scope + "decoder/output_projection", sizes[-1], N_CLASSES))
    return shapes


def encoder_scopes(layout):
    """Variable scope of each bi-LSTM of the encoder: ``encoder/``, or ``encoder/hierarchical_level_{i}/`` a level."""
    if "levels" not in layout:
        return ["encoder/"]
    return [f"encoder/hierarchical_level_{i}/" for i in range(len(layout["levels"]))]


def encoder_cell(scope, layer, direction):
    """Prefix of one encoder cell (stack_bidirectional_dynamic_rnn inside ``scope``); ``{}`` is MultiRNNCell's 0."""
    return f"{scope}cell_{layer}/bidirectional_rnn/{direction}/multi_rnn_cell/cell_{{}}/lstm_cell/"


def model_shapes(layout):
    """Magenta's variable names and shapes for ``layout`` (shared/reference/musicvae.md section 4)."""
    shapes = {}
    for level, scope in enumerate(encoder_scopes(layout)):
        in_size = N_CLASSES if level == 0 else 2 * layout["enc"][-1]
        for layer, h in enumerate(layout["enc"]):
            for direction in ("fw", "bw"):
                shapes.update(lstm_shapes(encoder_cell(scope, layer, direction), in_size, [h]))
            in_size = 2 * h
    for name in ("mu", "sigma"):
        shapes.update(dense_shapes(f"encoder/{name}", in_size, layout["z"]))
    dec = layout["dec"]
    if layout["hierarchical"]:
        shapes.update(dense_shapes("decoder/hierarchical_level_0/initial_state", layout["z"], 2 * sum(dec)))
        shapes.update(lstm_shapes("decoder/hierarchical_level_0/cell_{}/lstm_cell/", 1, dec))
        shapes.update(flat_decoder_shapes("core_decoder/", dec[-1], dec))
    else:
        shapes.update(flat_decoder_shapes("", layout["z"], dec))
    return shapes


def random_weights(shapes, rng):
    """Weights large enough that every gate and every token matter (std 0.3; biases std 0.2)."""
    return {
        name: (rng.standard_normal(shape) * (0.3 if len(shape) == 2 else 0.2)).astype(np.float32)
        for name, shape in shapes.items()
    }


def random_events(rng, n, steps):
    """(n, steps) int8 melody events: note-ons, note-offs and holds, first step a note-on or a hold."""
    events = rng.choice([0, 0, 0, 1], size=(n, steps)).astype(np.int8)
    onsets = rng.random((n, steps)) < 0.3
    events[onsets] = rng.integers(2, N_CLASSES, size=int(onsets.sum()))
    events[:, 0] = np.where(events[:, 0] == 1, 0, events[:, 0])
    return events


# ---- TensorFlow forward passes (Magenta's math, TensorFlow's ops) -------------------------------------


def lstm_step(w, b, x, c, h):
    """One LSTMBlockCell step as Magenta runs it: forget_bias=1.0, no cell clip, no peepholes."""
    units = h.shape[-1]
    zeros = tf.zeros([units], tf.float32)
    out = tf.raw_ops.LSTMBlockCell(
        x=x,
        cs_prev=c,
        h_prev=h,
        w=w,
        wci=zeros,
        wcf=zeros,
        wco=zeros,
        b=b,
        forget_bias=1.0,
        cell_clip=-1.0,
        use_peephole=False,
    )
    return out.cs, out.h


def dense(weights, prefix, x):
    """``tf.layers.dense`` without activation."""
    return tf.matmul(x, weights[prefix + "/kernel"]) + weights[prefix + "/bias"]


def run_stack(weights, prefix, inputs, state):
    """Run a MultiRNNCell over ``inputs`` (list of [n, in] tensors); returns top-layer outputs and state."""
    outputs = []
    for x in inputs:
        new_state = []
        for k, (c, h) in enumerate(state):
            c, h = lstm_step(weights[prefix.format(k) + "kernel"], weights[prefix.format(k) + "bias"], x, c, h)
            new_state.append((c, h))
            x = h
        state = new_state
        outputs.append(x)
    return outputs, state


def zero_state(n, sizes):
    return [(tf.zeros([n, h]), tf.zeros([n, h])) for h in sizes]


def initial_state(weights, prefix, cond, sizes):
    """``tanh(dense(cond))`` split as [c0, h0, c1, h1, ...]."""
    flat = tf.tanh(dense(weights, prefix, cond))
    parts = tf.split(flat, [h for h in sizes for _ in (0, 1)], axis=1)
    return [(parts[2 * k], parts[2 * k + 1]) for k in range(len(sizes))]


def bidirectional(weights, scope, sizes, seq):
    """BidirectionalLstmEncoder.encode over ``seq`` (list of [n, in]): the last layer's final fw and bw h."""
    n = seq[0].shape[0]
    for layer, h in enumerate(sizes):
        finals, outs = [], []
        for direction, order in (("fw", seq), ("bw", seq[::-1])):
            out, state = run_stack(weights, encoder_cell(scope, layer, direction), order, zero_state(n, [h]))
            finals.append(state[-1][1])
            outs.append(out if direction == "fw" else out[::-1])
        seq = [tf.concat([f, b], 1) for f, b in zip(*outs)]
    return tf.concat(finals, 1)


def encode(weights, layout, onehot):
    """mu and softplus sigma of the encoding: the bi-LSTM's, or for a HierarchicalLstmEncoder the top level's,
    each level encoding consecutive segments of its ``levels`` length (the first level's segments are bars)."""
    seq = [onehot[:, t] for t in range(onehot.shape[1])]
    for level, scope in enumerate(encoder_scopes(layout)):
        length = layout["levels"][level] if "levels" in layout else len(seq)
        seq = [bidirectional(weights, scope, layout["enc"], seq[i : i + length]) for i in range(0, len(seq), length)]
    enc = seq[0]
    return dense(weights, "encoder/mu", enc), tf.nn.softplus(dense(weights, "encoder/sigma", enc))


def flat_logits(weights, scope, sizes, cond, prev_onehot):
    """Teacher-forced CategoricalLstmDecoder: step input [previous one-hot || cond]."""
    state = initial_state(weights, scope + "decoder/z_to_initial_state", cond, sizes)
    inputs = [tf.concat([prev_onehot[:, t], cond], 1) for t in range(prev_onehot.shape[1])]
    outs, _ = run_stack(weights, scope + "decoder/multi_rnn_cell/cell_{}/lstm_cell/", inputs, state)
    return tf.stack([dense(weights, scope + "decoder/output_projection", h) for h in outs], 1)


def decoder_logits(weights, layout, z, onehot):
    """Teacher-forced logits (n, T, 90): inputs are the targets shifted right by one step (zeros first)."""
    prev = tf.pad(onehot[:, :-1], [[0, 0], [1, 0], [0, 0]])
    dec = layout["dec"]
    if not layout["hierarchical"]:
        return flat_logits(weights, "", dec, z, prev)
    n = z.shape[0]
    state = initial_state(weights, "decoder/hierarchical_level_0/initial_state", z, dec)
    bars, _ = run_stack(
        weights, "decoder/hierarchical_level_0/cell_{}/lstm_cell/", [tf.zeros([n, 1])] * layout["bars"], state
    )
    return tf.concat(
        [
            flat_logits(weights, "core_decoder/", dec, emb, prev[:, i * BAR_STEPS : (i + 1) * BAR_STEPS])
            for i, emb in enumerate(bars)
        ],
        1,
    )


def reference_outputs(weights, layout, rng, n=3):
    """Inputs and TensorFlow's outputs: events, z, mu, sigma, teacher-forced logits."""
    events = random_events(rng, n, layout["bars"] * BAR_STEPS)
    z = rng.standard_normal((n, layout["z"])).astype(np.float32)
    w = {name: tf.constant(value) for name, value in weights.items()}
    onehot = tf.one_hot(events.astype(np.int32), N_CLASSES, dtype=tf.float32)
    mu, sigma = encode(w, layout, onehot)
    logits = decoder_logits(w, layout, tf.constant(z), onehot)
    return dict(events=events, z=z, mu=mu.numpy(), sigma=sigma.numpy(), logits=logits.numpy())


# ---- writers ------------------------------------------------------------------------------------------


def build_variable(name, shape, initializer, dtype=tf.float32):
    """Create ``name`` through nested ``variable_scope``s, as Magenta's layers do."""
    *scopes, leaf = name.split("/")

    def nest(parts):
        if not parts:
            return tf.compat.v1.get_variable(leaf, shape=shape, initializer=initializer, dtype=dtype)
        with tf.compat.v1.variable_scope(parts[0]):
            return nest(parts[1:])

    return nest(scopes)


def write_tf_checkpoint(prefix, initializers, shapes, dtypes=None, training_state=True, shards=1):
    """Save model variables with ``tf.compat.v1.train.Saver``; with ``training_state`` also their Adam slots,
    the beta powers and global_step. ``dtypes`` maps a variable name to its dtype (default float32).
    ``shards > 1`` spreads the variables over that many CPU devices and saves one data file per device."""
    graph = tf.Graph()
    with graph.as_default():
        for k, (name, shape) in enumerate(shapes.items()):
            with tf.device(f"/cpu:{k % shards}"):
                build_variable(name, shape, initializers(name), (dtypes or {}).get(name, tf.float32))
            slot_init = tf.compat.v1.random_uniform_initializer(0.0, 1e-3, seed=7)
            for slot in ("Adam", "Adam_1") if training_state else ():
                build_variable(f"{name}/{slot}", shape, slot_init)
        if training_state:
            build_variable("beta1_power", (), tf.compat.v1.constant_initializer(0.9**7))
            build_variable("beta2_power", (), tf.compat.v1.constant_initializer(0.999**7))
            build_variable("global_step", (), tf.compat.v1.constant_initializer(7), tf.int64)
        saver = tf.compat.v1.train.Saver(sharded=shards > 1)
        config = tf.compat.v1.ConfigProto(device_count={"CPU": shards})
        with tf.compat.v1.Session(graph=graph, config=config) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            saver.save(sess, prefix, global_step=None, write_meta_graph=False)


def quantize(value, dtype):
    """tfjs affine quantisation: codes ``round((w - min) / scale)``, ``scale = (max - min) / (2**bits - 1)``."""
    lo, hi = float(value.min()), float(value.max())
    scale = (hi - lo) / np.iinfo(dtype).max if hi > lo else 1.0
    codes = np.round((value.astype(np.float64) - lo) / scale).astype(dtype)
    return codes, {"min": lo, "scale": scale, "dtype": np.dtype(dtype).name}


def write_tfjs(folder, weights, bars, quant_dtype=None):
    """Write a magenta.js checkpoint; returns the weights as magenta.js will read them (dequantised)."""
    os.makedirs(folder, exist_ok=True)
    specs, blobs, seen = [], [], {}
    for name, value in weights.items():
        spec = {"name": name, "shape": list(value.shape), "dtype": "float32"}
        if quant_dtype is None:
            blobs.append(value.astype("<f4").tobytes())
            seen[name] = value
        else:
            codes, spec["quantization"] = quantize(value, quant_dtype)
            blobs.append(codes.astype(np.dtype(quant_dtype).newbyteorder("<")).tobytes())
            q = spec["quantization"]
            seen[name] = (codes * q["scale"] + q["min"]).astype(np.float32)
        specs.append(spec)
    data = b"".join(blobs)
    chunks = [data[i : i + JS_SHARD_BYTES] for i in range(0, len(data), JS_SHARD_BYTES)]
    paths = [f"group1-shard{i + 1}of{len(chunks)}" for i in range(len(chunks))]
    for path, chunk in zip(paths, chunks):
        with open(os.path.join(folder, path), "wb") as fh:
            fh.write(chunk)
    with open(os.path.join(folder, "weights_manifest.json"), "w") as fh:
        json.dump([{"paths": paths, "weights": specs}], fh)
    converter = {"type": "MelodyConverter", "args": {"numSteps": bars * BAR_STEPS, "minPitch": 21, "maxPitch": 108}}
    with open(os.path.join(folder, "config.json"), "w") as fh:
        json.dump({"type": "MusicVAE", "dataConverter": converter}, fh)
    return seen


def write_fixtures(out):
    """The small committed fixtures (see the module docstring)."""
    rng = np.random.default_rng(20180305)
    tf_weights = {name: write_tf_fixture(out, name, layout, rng) for name, layout in SCALED.items()}
    write_broken(out, tf_weights["cat-mel_2bar_small"], SCALED["cat-mel_2bar_small"])
    write_sharded(out, tf_weights["cat-mel_2bar_small"], SCALED["cat-mel_2bar_small"])
    for folder, source, quant in (
        ("mel_2bar_small_js", "cat-mel_2bar_small", None),
        ("mel_2bar_small_js_q1", "cat-mel_2bar_small", np.uint8),
        ("hierdec_js_q2", "hierdec-mel_16bar", np.uint16),
    ):
        layout = SCALED[source]
        seen = write_tfjs(os.path.join(out, folder), tf_weights[source], layout["bars"], quant)
        np.savez(os.path.join(out, folder, "reference.npz"), **reference_outputs(seen, layout, rng))
    write_tf_fixture(out, *HIER_ENCODER, np.random.default_rng(20180306))


def write_tf_fixture(out, name, layout, rng):
    """``out/name/``: a TensorFlow checkpoint of random weights for ``layout`` and its ``reference.npz``."""
    folder = os.path.join(out, name)
    os.makedirs(folder, exist_ok=True)
    weights = random_weights(model_shapes(layout), rng)
    write_tf_checkpoint(
        os.path.join(folder, "model.ckpt"),
        lambda n, w=weights: tf.compat.v1.constant_initializer(w[n]),
        model_shapes(layout),
    )
    check = tf.train.load_checkpoint(os.path.join(folder, "model.ckpt"))
    assert all(np.array_equal(check.get_tensor(n), v) for n, v in weights.items())
    np.savez(os.path.join(folder, "reference.npz"), **reference_outputs(weights, layout, rng))
    return weights


def write_broken(out, weights, layout):
    """Checkpoints an importer must refuse with a clear message (no training state, to stay small):
    ``missing_variable`` lacks decoder/output_projection/bias, ``wrong_shape`` has an encoder/sigma/kernel
    one column too wide, ``bfloat16`` stores encoder/mu/kernel as bfloat16."""
    shapes = model_shapes(layout)
    sigma = weights["encoder/sigma/kernel"]
    cases = {
        "missing_variable": ({n: s for n, s in shapes.items() if n != "decoder/output_projection/bias"}, weights, None),
        "wrong_shape": (
            {**shapes, "encoder/sigma/kernel": (sigma.shape[0], sigma.shape[1] + 1)},
            {**weights, "encoder/sigma/kernel": np.pad(sigma, [(0, 0), (0, 1)])},
            None,
        ),
        "bfloat16": (shapes, weights, {"encoder/mu/kernel": tf.bfloat16}),
    }
    for case, (case_shapes, values, dtypes) in cases.items():
        folder = os.path.join(out, "broken", case)
        os.makedirs(folder, exist_ok=True)
        write_tf_checkpoint(
            os.path.join(folder, "model.ckpt"),
            lambda n, w=values: tf.compat.v1.constant_initializer(w[n]),
            case_shapes,
            dtypes,
            training_state=False,
        )


def write_sharded(out, weights, layout):
    """The cat-mel_2bar_small weights again, saved in two data shards (``sharded/``)."""
    folder = os.path.join(out, "sharded")
    os.makedirs(folder, exist_ok=True)
    write_tf_checkpoint(
        os.path.join(folder, "model.ckpt"),
        lambda n: tf.compat.v1.constant_initializer(weights[n]),
        model_shapes(layout),
        training_state=False,
        shards=2,
    )
    assert sorted(f for f in os.listdir(folder) if ".data-" in f) == [
        "model.ckpt.data-00000-of-00002",
        "model.ckpt.data-00001-of-00002",
    ]


def write_full_size(out, name):
    """One checkpoint of ``name``'s real shapes with random weights (TensorFlow initialisers)."""
    os.makedirs(out, exist_ok=True)
    shapes = model_shapes(FULL[name])
    init = tf.compat.v1.random_normal_initializer(stddev=0.02, seed=1)
    write_tf_checkpoint(os.path.join(out, f"{name}.ckpt"), lambda n: init, shapes)
    total = sum(int(np.prod(s)) for s in shapes.values())
    print(f"{name}: {len(shapes)} variables, {total} parameters")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="output folder")
    parser.add_argument("--full-size", choices=sorted(FULL), help="write one full-size random checkpoint instead")
    args = parser.parse_args()
    if args.full_size:
        write_full_size(args.out, args.full_size)
    else:
        write_fixtures(args.out)


if __name__ == "__main__":
    main()
