"""Magenta's released MusicVAE checkpoints: fetch one by name, check it, import it once into the model cache.

:data:`MAGENTA_RELEASES` lists the checkpoints the study can read, at their official addresses under
``https://storage.googleapis.com/magentadata`` (``$MUSICNEURONS_MAGENTA_URL`` or ``base_url=`` names a
mirror). :func:`fetch_magenta` downloads one into the cache (``$MUSICNEURONS_CACHE`` or
``~/.cache/musicneurons``) with a progress bar, resuming an interrupted transfer with an HTTP Range request;
checks it offline (the archive reads whole, an expected SHA-256 when one is given, every variable's name and
shape against the release's configuration); unpacks it safely (:mod:`musicneurons.model.archive`); and
imports it into ``models/NAME`` of the cache, which :func:`~musicneurons.model.io.resolve_model` then finds by
name. The archive and the unpacked checkpoint are removed once imported; an archive or magenta.js files that
fail a check are removed too, so the next fetch downloads them anew.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..errors import ArchiveError, CheckpointError, DownloadError, InvalidParameterError

__all__ = [
    "MagentaRelease",
    "MAGENTA_RELEASES",
    "BASE_URL",
    "URL_ENV",
    "fetch_magenta",
    "download",
    "imported_models",
    "imported_model_path",
    "release_status",
    "archive_checkpoint",
]

BASE_URL = "https://storage.googleapis.com/magentadata"
URL_ENV = "MUSICNEURONS_MAGENTA_URL"
TIMEOUT_S = 60.0
MODELS_FOLDER = "models"
DOWNLOADS_FOLDER = "magenta"


@dataclass(frozen=True)
class MagentaRelease:
    """One of Magenta's released MusicVAE checkpoints.

    Attributes
    ----------
    name : str
        The name it is fetched and then loaded by (``cat-mel_2bar_big``).
    path : str
        Its address under the base URL: a ``.tar`` archive of a TensorFlow checkpoint, or a magenta.js folder
        (``config.json``, ``weights_manifest.json`` and the shards it names).
    bars : int
        Bars per window.
    megabytes : float
        Download size in MB.
    description : str
        What it is, in a few words.
    config : str or None
        The registered configuration whose variable names and shapes the checkpoint must have; None where
        Magenta registered none (the layout is then read from the shapes).
    """

    name: str
    path: str
    bars: int
    megabytes: float
    description: str
    config: str | None = None

    @property
    def is_archive(self) -> bool:
        """True for a TensorFlow checkpoint in a tar archive, False for a magenta.js folder."""
        return self.path.endswith(".tar")

    def url(self, base_url: str | None = None) -> str:
        """The address to fetch: ``base_url``, else ``$MUSICNEURONS_MAGENTA_URL``, else :data:`BASE_URL`, then the path."""
        return f"{(base_url or os.environ.get(URL_ENV) or BASE_URL).rstrip('/')}/{self.path}"


_TF = "models/music_vae/checkpoints/"
_JS = "js/checkpoints/music_vae/"
MAGENTA_RELEASES = {
    release.name: release
    for release in (
        MagentaRelease(
            "cat-mel_2bar_big",
            _TF + "cat-mel_2bar_big.tar",
            2,
            538,
            "2-bar melodies, the paper's 2-bar model",
            "cat-mel_2bar_big",
        ),
        MagentaRelease(
            "hierdec-mel_16bar",
            _TF + "hierdec-mel_16bar.tar",
            16,
            704,
            "16-bar melodies, hierarchical decoder, the paper's 16-bar model",
            "hierdec-mel_16bar",
        ),
        MagentaRelease(
            "cat-mel_2bar_small", _TF + "cat-mel_2bar_small.tar", 2, 18, "2-bar melodies, small", "cat-mel_2bar_small"
        ),
        MagentaRelease(
            "mel_2bar_small",
            _JS + "mel_2bar_small",
            2,
            17.7,
            "magenta.js: 2-bar melodies, cat-mel_2bar_small's layout",
            "cat-mel_2bar_small",
        ),
        MagentaRelease(
            "mel_16bar_small_q2",
            _JS + "mel_16bar_small_q2",
            16,
            23.5,
            "magenta.js: 16-bar melodies, hierarchical decoder, small, 2-byte weights",
        ),
    )
}


def _cache_root() -> Path:
    """The cache root, unchecked: for looking up (fetching checks it with preflight.check_cache)."""
    from ..melody.corpus import cache_dir

    return cache_dir()


def imported_model_path(name: str) -> Path:
    """The folder a fetched model is imported into: ``models/NAME`` of the cache (it may not exist yet)."""
    return _cache_root() / MODELS_FOLDER / name


def _is_model_folder(folder: Path) -> bool:
    from .musicvae import CONFIG_FILE, WEIGHTS_FILE

    return (folder / CONFIG_FILE).is_file() and (folder / WEIGHTS_FILE).is_file()


def imported_models() -> list[str]:
    """Names of the models imported into the cache by :func:`fetch_magenta`, sorted."""
    root = _cache_root() / MODELS_FOLDER
    return sorted(p.name for p in root.glob("*") if _is_model_folder(p)) if root.is_dir() else []


def release_status(name: str) -> str:
    """Where a release stands in the cache: ``imported``, ``downloaded``, ``partial N of M MB`` or ``not fetched``."""
    release = _release(name)
    if _is_model_folder(imported_model_path(name)):
        return "imported"
    downloads = _cache_root() / DOWNLOADS_FOLDER
    if release.is_archive:
        archive = downloads / f"{name}.tar"
        if archive.is_file():
            return "downloaded, not imported"
        part = _part(archive)
        if part.is_file():
            return f"partial download, {part.stat().st_size / 1e6:.1f} of {release.megabytes:g} MB"
    elif (downloads / name).is_dir():
        return "partial download"
    return "not fetched"


def _release(name: str) -> MagentaRelease:
    if name not in MAGENTA_RELEASES:
        raise InvalidParameterError(
            f"{name!r} is not one of Magenta's released checkpoints this tool reads; "
            f"choose one of {', '.join(MAGENTA_RELEASES)}"
        )
    return MAGENTA_RELEASES[name]


def _part(path: Path) -> Path:
    return path.with_name(path.name + ".part")


def _content_range(value: str | None) -> tuple[int | None, int | None]:
    """(first byte, total size) of a ``Content-Range: bytes FIRST-LAST/TOTAL`` (or ``bytes */TOTAL``) header."""
    match = re.fullmatch(r"bytes (?:(\d+)-\d+|\*)/(\d+|\*)", (value or "").strip())
    if not match:
        return None, None
    first, total = match.groups()
    return (int(first) if first else None), (int(total) if total != "*" else None)


def download(url: str, path: str | os.PathLike, *, progress: bool = True, timeout: float = TIMEOUT_S) -> Path:
    """Download ``url`` to ``path``, resuming where an interrupted download of it stopped.

    The bytes go to ``PATH.part``, renamed to ``path`` once the transfer is complete. When ``PATH.part``
    exists, only the missing bytes are asked for (an HTTP ``Range`` request, ``If-Range`` the validator the
    server gave first); a server that answers with the whole file starts the part over.

    Parameters
    ----------
    url : str
        An ``http://`` or ``https://`` address.
    path : str or os.PathLike
        The file to write.
    progress : bool, keyword-only
        Show a tqdm progress bar (bytes, resumed bytes included).
    timeout : float, keyword-only
        Seconds to wait for the server to connect or to send more bytes.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    DownloadError
        The server cannot be reached or answers with an HTTP error, or the transfer breaks off (what came is
        kept in ``PATH.part`` for the next try).
    """
    from ..progress import progress_bar

    from .. import __version__

    path = Path(path)
    part, validator_file = _part(path), path.with_name(path.name + ".part.json")
    have = part.stat().st_size if part.is_file() else 0
    headers = {"User-Agent": f"musicneurons/{__version__}"}
    validator = json.loads(validator_file.read_text()).get("validator") if validator_file.is_file() else None
    if have:
        headers["Range"] = f"bytes={have}-"
        if validator:
            headers["If-Range"] = validator
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # the part is whole already, or not a part of this file: start over
            if _content_range(exc.headers.get("Content-Range"))[1] == have:
                part.rename(path)
                validator_file.unlink(missing_ok=True)
                return path
            part.unlink()
            return download(url, path, progress=progress, timeout=timeout)
        raise DownloadError(f"{url}: the server answered HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise DownloadError(f"{url}: cannot connect ({getattr(exc, 'reason', exc)})") from None
    with response:
        first, total = _content_range(response.headers.get("Content-Range"))
        if response.status == 206 and first != have:
            raise DownloadError(f"{url}: asked for the bytes from {have:,}, the server sent them from {first}")
        if response.status != 206:
            have, length = 0, response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            new_validator = response.headers.get("ETag") or response.headers.get("Last-Modified")
            validator_file.write_text(json.dumps({"url": url, "validator": new_validator}))
        got = have
        with (
            open(part, "ab" if have else "wb") as out,
            progress_bar(
                progress=progress,
                total=total,
                initial=have,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=path.name,
            ) as bar,
        ):
            try:
                while block := response.read(1 << 16):
                    out.write(block)
                    got += len(block)
                    bar.update(len(block))
            except (OSError, http.client.HTTPException):
                pass  # judged by the count below
    if total is not None and got != total:
        raise DownloadError(
            f"{url}: the transfer broke off after {got:,} of {total:,} bytes; run the same command again to resume"
        )
    part.rename(path)
    validator_file.unlink(missing_ok=True)
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _checkpoint_in(folder: Path, archive: Path) -> Path:
    """The one checkpoint under an unpacked ``folder``: a TensorFlow ``.index`` file or a magenta.js folder."""
    from .tfjs import MANIFEST

    found = sorted(folder.rglob("*.index")) + sorted(p.parent for p in folder.rglob(MANIFEST))
    if len(found) != 1:
        raise ArchiveError(
            archive,
            f"holds {len(found)} checkpoints (TensorFlow .index files or magenta.js manifests); one is needed",
        )
    return found[0]


def archive_checkpoint(archive: str | os.PathLike) -> Path:
    """The checkpoint inside a ``.tar``/``.tar.gz`` archive given as a model, unpacked safely into the cache once.

    Parameters
    ----------
    archive : str or os.PathLike
        The archive file.

    Returns
    -------
    pathlib.Path
        The checkpoint's ``.index`` file or magenta.js folder, under ``magenta/unpacked`` of the cache.
    """
    from ..preflight import check_cache
    from .archive import unpacked_archive

    folder = unpacked_archive(archive, check_cache() / DOWNLOADS_FOLDER / "unpacked")
    return _checkpoint_in(folder, Path(archive))


def _download_tfjs(url: str, folder: Path, *, progress: bool) -> None:
    """The files of a magenta.js checkpoint at ``url`` into ``folder``: its config, manifest and shards."""
    from ..progress import progress_bar

    from .tf_checkpoint import path_inside
    from .tfjs import MANIFEST

    folder.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", MANIFEST):
        if not (folder / name).is_file():
            download(f"{url}/{name}", folder / name, progress=False)
    manifest = folder / MANIFEST
    try:
        groups = json.loads(manifest.read_text(encoding="utf-8"))
        shards = [shard for group in groups for shard in group["paths"]]
    except (ValueError, TypeError, KeyError) as exc:
        manifest.unlink()
        raise CheckpointError(manifest, f"not a magenta.js weights manifest ({exc}); removed") from None
    for shard in progress_bar(shards, progress=progress, desc=folder.name, unit="file"):
        target = Path(path_inside(str(folder), shard, str(manifest), "paths"))
        if not target.is_file():
            download(f"{url}/{shard}", target, progress=False)


def _import(release: MagentaRelease, checkpoint: Path, target: Path, source: dict) -> None:
    """Check ``checkpoint`` against the release's configuration, convert it, write it to ``target``."""
    from .config import CONFIGS
    from .magenta import check_variables, load_magenta_checkpoint, magenta_shapes, open_magenta_checkpoint
    from .musicvae import magenta_parameter_count, save_model

    if release.config:
        reader = open_magenta_checkpoint(checkpoint)
        try:
            check_variables(reader, magenta_shapes(CONFIGS[release.config]))
        except CheckpointError as exc:
            raise CheckpointError(exc.path, f"{exc.reason}: not Magenta's {release.name}") from None
    model = load_magenta_checkpoint(checkpoint, bars=release.bars)
    staging = target.with_name(target.name + ".importing")
    shutil.rmtree(staging, ignore_errors=True)
    save_model(model, staging)
    config = model.config
    (staging / "MODEL_CARD.md").write_text(
        f"# {release.name}\n\nMagenta's released MusicVAE checkpoint {release.name} ({release.description}), "
        f"fetched from {source['url']} on {source['fetched']}"
        + (f" (SHA-256 {source['sha256']})" if source.get("sha256") else "")
        + f" and imported by musicneurons: {config.bars} bars, z {config.z_size}, "
        f"{magenta_parameter_count(model):,} parameters. Licence: Apache 2.0 (Magenta).\n",
        encoding="utf-8",
    )
    (staging / "source.json").write_text(json.dumps(source, indent=2) + "\n", encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)


def fetch_magenta(
    name: str | MagentaRelease, *, sha256: str | None = None, base_url: str | None = None, progress: bool = True
) -> Path:
    """Download one of Magenta's released checkpoints, check it and import it into the model cache.

    Parameters
    ----------
    name : str or MagentaRelease
        A key of :data:`MAGENTA_RELEASES` (``cat-mel_2bar_big``, ``hierdec-mel_16bar``, ...), or a release of
        one's own (another checkpoint, another layout) described as a :class:`MagentaRelease`.
    sha256 : str, optional, keyword-only
        The archive's expected SHA-256 (hex); checked before unpacking. Only for archives: a magenta.js
        checkpoint is a folder of files, checked against its manifest.
    base_url : str, optional, keyword-only
        The address under which the release's path lies (a mirror); default ``$MUSICNEURONS_MAGENTA_URL``,
        else Magenta's (:data:`BASE_URL`).
    progress : bool, keyword-only
        Show a progress bar.

    Returns
    -------
    pathlib.Path
        The imported model folder (``models/NAME`` of the cache); ``load_model(name)`` loads it from now on.
        When it is there already, nothing is downloaded.

    Raises
    ------
    InvalidParameterError
        An unknown name, or ``sha256`` that is not 64 hex digits or given for a magenta.js checkpoint.
    DownloadError
        No answer, an HTTP error, or a transfer that broke off (the next call resumes it).
    ArchiveError
        A checksum that differs, an archive that does not read whole, or a member that must not be unpacked.
    CheckpointError
        A variable whose name or shape differs from the release's configuration, or a damaged checkpoint.
    """
    from ..preflight import check_cache
    from .archive import unpack_archive

    release = name if isinstance(name, MagentaRelease) else _release(name)
    name = release.name
    if sha256 is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", sha256):
        raise InvalidParameterError(f"--sha256 {sha256}: not a SHA-256 (64 hex digits)")
    if sha256 is not None and not release.is_archive:
        raise InvalidParameterError(
            f"--sha256 checks an archive; {name} is a magenta.js folder, whose files are checked against its manifest"
        )
    target = imported_model_path(name)
    if _is_model_folder(target):
        return target
    downloads = check_cache() / DOWNLOADS_FOLDER
    downloads.mkdir(exist_ok=True)
    url = release.url(base_url)
    folder = downloads / name
    source = {"name": name, "url": url, "fetched": datetime.now(UTC).strftime("%Y-%m-%d")}
    if not release.is_archive:
        _download_tfjs(url, folder, progress=progress)
        try:
            _import(release, folder, target, source)
        finally:  # imported, or its files fail a check: either way the next fetch starts afresh
            shutil.rmtree(folder)
        return target
    archive = downloads / f"{name}.tar"
    if not archive.is_file():
        download(url, archive, progress=progress)
    try:
        source["sha256"] = actual = _sha256(archive)
        if sha256 is not None and actual != sha256.lower():
            raise ArchiveError(archive, f"SHA-256 {actual} is not the expected {sha256.lower()}")
        shutil.rmtree(folder, ignore_errors=True)
        _import(release, _checkpoint_in(unpack_archive(archive, folder), archive), target, source)
    except (ArchiveError, CheckpointError):
        archive.unlink()
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    archive.unlink()
    return target
