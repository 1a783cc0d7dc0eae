"""Fetching Magenta's released checkpoints from a local HTTP server: resume, checks, safe unpacking, import once."""

import hashlib
import io
import re
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from musicneurons.cli import main
from musicneurons.errors import ArchiveError, DownloadError, ModelFileError
from musicneurons.model import load_model, resolve_model
from musicneurons.model.archive import unpack_archive
from musicneurons.model.fetch import MAGENTA_RELEASES, MagentaRelease, fetch_magenta

FIXTURES = Path(__file__).parent / "fixtures" / "magenta"
BIG = MAGENTA_RELEASES["cat-mel_2bar_big"]
# The release as served here: TensorFlow's scaled-down checkpoint has no registered layout to match.
SCALED_BIG = MagentaRelease(BIG.name, BIG.path, 2, 0.3, "the scaled-down fixture")
CHECKPOINT_FILES = ["checkpoint", "model.ckpt.data-00000-of-00001", "model.ckpt.index"]

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tar_bytes(members, compress=False):
    """A tar archive of ``members``: (name, bytes) for files, or a TarInfo (links, devices) as is."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if compress else "w") as tar:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                tar.addfile(member)
            else:
                info = tarfile.TarInfo(member[0])
                info.size = len(member[1])
                tar.addfile(info, io.BytesIO(member[1]))
    return buffer.getvalue()


def checkpoint_tar(fixture="cat-mel_2bar_big", folder="cat-mel_2bar_big"):
    """The TensorFlow-written fixture checkpoint as Magenta ships one: a tar of its files in a folder."""
    return tar_bytes([(f"{folder}/{name}", (FIXTURES / fixture / name).read_bytes()) for name in CHECKPOINT_FILES])


class Server:
    """A local HTTP server on 127.0.0.1 with Range requests; ``cut[path] = n`` sends n bytes, then hangs up."""

    def __init__(self):
        self.files, self.cut, self.log = {}, {}, []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                data = server.files.get(self.path)
                if data is None:
                    self.send_error(404, "Not Found")
                    return
                asked = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
                start = int(asked.group(1)) if asked and self.headers.get("If-Range", '"v1"') == '"v1"' else 0
                if start >= len(data) > 0:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.end_headers()
                    return
                self.send_response(206 if start else 200)
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.send_header("Content-Length", str(len(data) - start))
                self.send_header("ETag", '"v1"')
                self.end_headers()
                body = data[start : start + server.cut.pop(self.path, len(data))]
                self.wfile.write(body)
                server.log.append((self.path, self.headers.get("Range"), len(body)))

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, release, data):
        self.files["/" + release.path] = data
        return f"{self.url}/{release.path}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(monkeypatch):
    srv = Server()
    monkeypatch.setenv("MUSICNEURONS_MAGENTA_URL", srv.url)
    yield srv
    srv.close()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICNEURONS_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def cli(args, capsys):
    """``musicneurons ARGS`` in this process -> (exit status, stdout, last line of stderr)."""
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, (err.strip().splitlines() or [""])[-1]


def assert_reproduces_tensorflow(model, fixture):
    ref = np.load(FIXTURES / fixture / "reference.npz")
    mu, sigma = model.encode(ref["events"])
    np.testing.assert_allclose(mu, ref["mu"], rtol=0, atol=1e-5)
    np.testing.assert_allclose(sigma, ref["sigma"], rtol=0, atol=1e-5)


def test_an_archive_is_fetched_checked_and_imported_once_then_loaded_by_name(server, cache, capsys):
    data = checkpoint_tar()
    server.serve(BIG, data)
    folder = fetch_magenta(SCALED_BIG, sha256=hashlib.sha256(data).hexdigest(), progress=False)
    assert folder == cache / "models" / "cat-mel_2bar_big"
    assert sorted(p.name for p in folder.iterdir()) == [
        "MODEL_CARD.md",
        "config.json",
        "source.json",
        "weights.safetensors",
    ]
    assert sorted(p.name for p in (cache / "magenta").iterdir()) == []  # archive and unpacked files removed
    ref = resolve_model("cat-mel_2bar_big")
    assert (ref.kind, ref.path, ref.bars) == ("imported", folder, 2)
    assert_reproduces_tensorflow(load_model("cat-mel_2bar_big"), "cat-mel_2bar_big")
    assert fetch_magenta(SCALED_BIG, progress=False) == folder and len(server.log) == 1  # nothing fetched again
    code, out, _ = cli(["models"], capsys)
    assert code == 0
    assert f"cat-mel_2bar_big      magenta  2     ready (imported: {folder})" in out.splitlines()


def test_an_interrupted_transfer_resumes_with_the_missing_bytes_only(server, cache):
    data = checkpoint_tar()
    url = server.serve(BIG, data)
    server.cut["/" + BIG.path] = 100_000
    with pytest.raises(DownloadError) as exc:
        fetch_magenta(SCALED_BIG, progress=False)
    assert str(exc.value) == (
        f"{url}: the transfer broke off after 100,000 of {len(data):,} bytes; run the same command again to resume"
    )
    assert (cache / "magenta" / "cat-mel_2bar_big.tar.part").stat().st_size == 100_000
    fetch_magenta(SCALED_BIG, progress=False)
    assert server.log == [("/" + BIG.path, None, 100_000), ("/" + BIG.path, "bytes=100000-", len(data) - 100_000)]
    assert_reproduces_tensorflow(load_model("cat-mel_2bar_big"), "cat-mel_2bar_big")


def test_the_models_command_shows_a_partial_download(server, cache, capsys):
    server.serve(BIG, checkpoint_tar())
    server.cut["/" + BIG.path] = 100_000
    assert cli(["fetch-magenta", "cat-mel_2bar_big", "--quiet"], capsys)[0] == 1
    code, out, _ = cli(["models"], capsys)
    assert (code, out.splitlines()[3]) == (
        0,
        "cat-mel_2bar_big      magenta  2     partial download, 0.1 of 538 MB; "
        "musicneurons fetch-magenta cat-mel_2bar_big (538 MB)",
    )


def test_a_wrong_checksum_is_refused_and_the_archive_removed(server, cache, capsys):
    data = checkpoint_tar()
    server.serve(BIG, data)
    code, _, error = cli(["fetch-magenta", "cat-mel_2bar_big", "--quiet", "--sha256", "ab" * 32], capsys)
    archive = cache / "magenta" / "cat-mel_2bar_big.tar"
    assert (code, error) == (
        1,
        f"musicneurons fetch-magenta: error: {archive}: SHA-256 {hashlib.sha256(data).hexdigest()} "
        f"is not the expected {'ab' * 32}",
    )
    assert not archive.exists() and not (cache / "models" / "cat-mel_2bar_big").exists()


def test_a_malformed_checksum_is_refused_before_any_download(server, cache, capsys):
    assert cli(["fetch-magenta", "cat-mel_2bar_big", "--sha256", "abc"], capsys)[::2] == (
        1,
        "musicneurons fetch-magenta: error: --sha256 abc: not a SHA-256 (64 hex digits)",
    )
    assert server.log == []


@pytest.mark.parametrize(
    "cut, reason",
    [
        (200_000, "not a readable tar archive, or truncated (unexpected end of data)"),  # inside a member
        (1024, "the archive is truncated: it ends without tar's end-of-archive marker"),  # after a whole member
    ],
)
def test_a_truncated_archive_is_refused(server, cache, capsys, cut, reason):
    server.serve(BIG, checkpoint_tar()[:cut])
    code, _, error = cli(["fetch-magenta", "cat-mel_2bar_big", "--quiet"], capsys)
    archive = cache / "magenta" / "cat-mel_2bar_big.tar"
    assert (code, error) == (1, f"musicneurons fetch-magenta: error: {archive}: {reason}")
    assert sorted((cache / "magenta").iterdir()) == []


def _link(name, target, kind):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


@pytest.mark.parametrize(
    "member, reason",
    [
        (("../../escaped.txt", b"x"), "member '../../escaped.txt' leads outside the folder it is unpacked into"),
        (
            ("cat/../../escaped.txt", b"x"),
            "member 'cat/../../escaped.txt' leads outside the folder it is unpacked into",
        ),
        (("/tmp/escaped.txt", b"x"), "member '/tmp/escaped.txt' leads outside the folder it is unpacked into"),
        (
            _link("cat/escaped.txt", "/etc/passwd", tarfile.SYMTYPE),
            "member 'cat/escaped.txt' is a link to '/etc/passwd'; links are not unpacked",
        ),
        (
            _link("cat/escaped.txt", "cat/model.ckpt.index", tarfile.LNKTYPE),
            "member 'cat/escaped.txt' is a link to 'cat/model.ckpt.index'; links are not unpacked",
        ),
        (
            _link("cat/escaped.txt", "", tarfile.FIFOTYPE),
            "member 'cat/escaped.txt' is neither a file nor a folder (a device or a FIFO)",
        ),
    ],
)
def test_no_member_is_written_outside_the_cache(server, cache, capsys, tmp_path, member, reason):
    files = [(f"cat/{name}", (FIXTURES / "cat-mel_2bar_big" / name).read_bytes()) for name in CHECKPOINT_FILES]
    server.serve(BIG, tar_bytes(files[:1] + [member] + files[1:]))
    code, _, error = cli(["fetch-magenta", "cat-mel_2bar_big", "--quiet"], capsys)
    assert (code, error) == (
        1,
        f"musicneurons fetch-magenta: error: {cache / 'magenta' / 'cat-mel_2bar_big.tar'}: {reason}",
    )
    assert [p for p in tmp_path.rglob("*escaped*")] == [] and not Path("/tmp/escaped.txt").exists()
    assert sorted((cache / "magenta").iterdir()) == []


def test_size_and_member_limits(tmp_path):
    archive = tmp_path / "a.tar"
    archive.write_bytes(tar_bytes([("a", b"x" * 100), ("b", b"y" * 100)]))
    for limits, reason in [
        (
            {"max_member_bytes": 99},
            "member 'a' takes the size past the limit (99 bytes a member, 8,589,934,592 in all)",
        ),
        (
            {"max_total_bytes": 150},
            "member 'b' takes the size past the limit (4,294,967,296 bytes a member, 150 in all)",
        ),
        ({"max_members": 1}, "more than 1 members; not a model checkpoint"),
    ]:
        with pytest.raises(ArchiveError) as exc:
            unpack_archive(archive, tmp_path / "out", **limits)
        assert str(exc.value) == f"{archive}: {reason}"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tar"]


def test_a_checkpoint_of_another_layout_is_not_imported_as_the_release(server, cache, capsys):
    server.serve(BIG, checkpoint_tar())
    code, _, error = cli(["fetch-magenta", "cat-mel_2bar_big", "--quiet"], capsys)
    prefix = cache / "magenta" / "cat-mel_2bar_big" / "cat-mel_2bar_big" / "model.ckpt"
    assert (code, error) == (
        1,
        f"musicneurons fetch-magenta: error: {prefix}:encoder/cell_0/bidirectional_rnn/fw/multi_rnn_cell/cell_0/"
        "lstm_cell/kernel: wrong shape: expected [2138, 8192], found [106, 64]: not Magenta's cat-mel_2bar_big",
    )
    assert sorted((cache / "magenta").iterdir()) == [] and not (cache / "models").exists()


def test_a_magenta_js_checkpoint_is_fetched_file_by_file(server, cache, capsys):
    release = MAGENTA_RELEASES["mel_16bar_small_q2"]
    for path in (FIXTURES / "hierdec_js_q2").iterdir():
        server.files[f"/{release.path}/{path.name}"] = path.read_bytes()
    code, out, _ = cli(["fetch-magenta", "mel_16bar_small_q2", "--quiet"], capsys)
    folder = cache / "models" / "mel_16bar_small_q2"
    assert (code, out) == (
        0,
        f"mel_16bar_small_q2: 16 bars, z 8, imported into {folder}; use it as --model mel_16bar_small_q2\n",
    )
    assert len(server.log) == 18  # config, manifest and 16 shards; never reference.npz
    assert_reproduces_tensorflow(load_model("mel_16bar_small_q2"), "hierdec_js_q2")


def test_magenta_js_files_of_another_layout_are_removed(server, cache, capsys):
    release = MAGENTA_RELEASES["mel_2bar_small"]  # must have cat-mel_2bar_small's layout; the fixture is scaled down
    for path in (FIXTURES / "mel_2bar_small_js").iterdir():
        server.files[f"/{release.path}/{path.name}"] = path.read_bytes()
    code, _, error = cli(["fetch-magenta", "mel_2bar_small", "--quiet"], capsys)
    manifest = cache / "magenta" / "mel_2bar_small" / "weights_manifest.json"
    assert (code, error) == (
        1,
        f"musicneurons fetch-magenta: error: {manifest}:encoder/cell_0/bidirectional_rnn/fw/multi_rnn_cell/cell_0/"
        "lstm_cell/kernel: wrong shape: expected [602, 2048], found [106, 64]: not Magenta's mel_2bar_small",
    )
    assert sorted((cache / "magenta").iterdir()) == [] and not (cache / "models").exists()


def test_load_model_downloads_when_asked(server, cache):
    release = MAGENTA_RELEASES["mel_16bar_small_q2"]
    for path in (FIXTURES / "hierdec_js_q2").iterdir():
        server.files[f"/{release.path}/{path.name}"] = path.read_bytes()
    with pytest.raises(ModelFileError) as exc:
        load_model("mel_16bar_small_q2")
    assert str(exc.value) == (
        "mel_16bar_small_q2: Magenta's released model is not fetched yet; fetch it once with "
        "`musicneurons fetch-magenta mel_16bar_small_q2` (23.5 MB), or call "
        "load_model('mel_16bar_small_q2', download=True)"
    )
    assert server.log == []
    assert_reproduces_tensorflow(load_model("mel_16bar_small_q2", download=True), "hierdec_js_q2")


def test_server_errors_are_one_line(server, cache, capsys):
    code, _, error = cli(["fetch-magenta", "hierdec-mel_16bar", "--quiet"], capsys)
    url = f"{server.url}/{MAGENTA_RELEASES['hierdec-mel_16bar'].path}"
    assert (code, error) == (1, f"musicneurons fetch-magenta: error: {url}: the server answered HTTP 404 Not Found")
    server.close()
    code, _, error = cli(["fetch-magenta", "hierdec-mel_16bar", "--quiet"], capsys)
    assert (code, error) == (
        1,
        f"musicneurons fetch-magenta: error: {url}: cannot connect ([Errno 111] Connection refused)",
    )


def test_an_unknown_release_is_refused_by_the_parser(capsys, cache):
    code, _, error = cli(["fetch-magenta", "cat-mel_2bar_huge"], capsys)
    assert code == 2
    assert error.startswith("musicneurons fetch-magenta: error: argument NAME: invalid choice: 'cat-mel_2bar_huge'")


@pytest.mark.parametrize("compress", [False, True])
def test_an_archive_given_as_a_model_is_unpacked_safely(tmp_path, cache, capsys, compress):
    archive = tmp_path / ("cat-mel_2bar_big.tar.gz" if compress else "cat-mel_2bar_big.tar")
    files = [(f"cat-mel_2bar_big/{n}", (FIXTURES / "cat-mel_2bar_big" / n).read_bytes()) for n in CHECKPOINT_FILES]
    archive.write_bytes(tar_bytes(files, compress=compress))
    ref = resolve_model(archive)
    assert (ref.kind, ref.bars) == ("magenta", 2)
    assert ref.path.is_relative_to(cache / "magenta" / "unpacked")
    assert_reproduces_tensorflow(ref.load(), "cat-mel_2bar_big")
    code, out, _ = cli(["import-magenta", archive, "--out", tmp_path / "imported"], capsys)
    assert code == 0 and out.startswith("imported cat-mel_2bar_big-imported: 2 bars, z 8")
    evil = tmp_path / "evil.tar"
    evil.write_bytes(tar_bytes(files + [("../escaped.txt", b"x")]))
    code, _, error = cli(["import-magenta", evil, "--out", tmp_path / "evil"], capsys)
    assert (code, error) == (
        1,
        f"musicneurons import-magenta: error: {evil}: member '../escaped.txt' leads outside the folder it is "
        "unpacked into",
    )
    assert list(tmp_path.rglob("escaped.txt")) == [] and not (tmp_path / "evil").exists()
