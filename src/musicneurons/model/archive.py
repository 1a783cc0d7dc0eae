"""Safe unpacking of checkpoint archives (``.tar``, ``.tar.gz``, ``.tgz``).

Magenta publishes its MusicVAE checkpoints as tar archives. An archive is unpacked only when every member
is a regular file or a folder whose path stays inside the target folder, the sizes stay under the limits,
and the archive reads whole: every member's bytes and the end-of-archive marker. Links, devices, absolute
paths and ``..`` are refused, never written. Members go to a temporary folder beside the target, renamed
into place only when all of them are written, so an interrupted or refused unpacking leaves nothing behind.
"""

from __future__ import annotations

import gzip
import os
import shutil
import tarfile
import zlib
from pathlib import Path, PurePosixPath
from typing import IO, cast

from ..errors import ArchiveError

__all__ = ["ARCHIVE_SUFFIXES", "is_archive", "unpack_archive", "unpacked_archive"]

ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz")
MAX_MEMBER_BYTES = 4 << 30  # Magenta's largest checkpoint file is under 1 GB
MAX_TOTAL_BYTES = 8 << 30
MAX_MEMBERS = 10_000
_END_OF_ARCHIVE = bytes(2 * tarfile.BLOCKSIZE)


def is_archive(path: str | os.PathLike) -> bool:
    """True when ``path`` names a file with an archive suffix (``.tar``, ``.tar.gz``, ``.tgz``)."""
    return str(path).lower().endswith(ARCHIVE_SUFFIXES) and os.path.isfile(path)


def _member_path(member: tarfile.TarInfo, archive: Path) -> PurePosixPath:
    """The member's relative path; ArchiveError for a path or a kind that must not be unpacked."""
    name = PurePosixPath(member.name)
    if name.is_absolute() or ".." in name.parts or not name.parts or "\\" in member.name:
        raise ArchiveError(archive, f"member {member.name!r} leads outside the folder it is unpacked into")
    if member.issym() or member.islnk():
        raise ArchiveError(archive, f"member {member.name!r} is a link to {member.linkname!r}; links are not unpacked")
    if not (member.isfile() or member.isdir()):
        raise ArchiveError(archive, f"member {member.name!r} is neither a file nor a folder (a device or a FIFO)")
    return name


def unpack_archive(
    archive: str | os.PathLike,
    target: str | os.PathLike,
    *,
    max_member_bytes: int = MAX_MEMBER_BYTES,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    max_members: int = MAX_MEMBERS,
) -> Path:
    """Unpack a tar archive (plain or gzip) into ``target``, refusing anything unsafe or incomplete.

    Parameters
    ----------
    archive : str or os.PathLike
        The ``.tar``, ``.tar.gz`` or ``.tgz`` file.
    target : str or os.PathLike
        The folder to create; it must not exist yet.
    max_member_bytes, max_total_bytes : int, keyword-only
        Largest size of one member and of all members together (defaults 4 GiB and 8 GiB).
    max_members : int, keyword-only
        Most members (default 10,000).

    Returns
    -------
    pathlib.Path
        ``target``, holding every member.

    Raises
    ------
    ArchiveError
        Naming the archive and the problem: unreadable or truncated, a member outside ``target`` (absolute,
        ``..``), a link, a device, a duplicate, or a limit exceeded. Nothing is left in ``target`` then.
    """
    archive, target = Path(archive), Path(target)
    staging = target.with_name(target.name + ".unpacking")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        _unpack_into(archive, staging, max_member_bytes, max_total_bytes, max_members)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _unpack_into(archive: Path, folder: Path, max_member_bytes: int, max_total_bytes: int, max_members: int) -> None:
    """Write every member of ``archive`` under ``folder`` (see :func:`unpack_archive`)."""
    total = members = 0
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                members += 1
                name = _member_path(member, archive)
                if members > max_members:
                    raise ArchiveError(archive, f"more than {max_members:,} members; not a model checkpoint")
                total += member.size
                if member.size > max_member_bytes or total > max_total_bytes:
                    raise ArchiveError(
                        archive,
                        f"member {member.name!r} takes the size past the limit ({max_member_bytes:,} bytes a member, "
                        f"{max_total_bytes:,} in all)",
                    )
                path = folder.joinpath(*name.parts)
                if member.isdir():
                    path.mkdir(parents=True, exist_ok=True)
                    continue
                path.parent.mkdir(parents=True, exist_ok=True)
                source = cast(IO[bytes], tar.extractfile(member))  # a regular file always has a reader
                try:
                    with source, open(path, "xb") as out:
                        shutil.copyfileobj(source, out, 1 << 20)
                except FileExistsError:
                    raise ArchiveError(archive, f"member {member.name!r} appears twice") from None
            tar.fileobj.seek(tar.offset)
            if tar.fileobj.read(len(_END_OF_ARCHIVE)) != _END_OF_ARCHIVE:
                raise ArchiveError(archive, "the archive is truncated: it ends without tar's end-of-archive marker")
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        reason = "unexpected end of data" if isinstance(exc, EOFError) else str(exc) or type(exc).__name__
        raise ArchiveError(archive, f"not a readable tar archive, or truncated ({reason})") from None
    if not members:
        raise ArchiveError(archive, "the archive is empty")


def unpacked_archive(archive: str | os.PathLike, cache: str | os.PathLike) -> Path:
    """The folder an archive is unpacked into under ``cache``, unpacking it the first time.

    Parameters
    ----------
    archive : str or os.PathLike
        A checkpoint archive given as a model (``--model x.tar``, ``import-magenta x.tar``).
    cache : str or os.PathLike
        The folder of unpacked archives; each one is keyed by the archive's absolute path, size and
        modification time, so a changed archive is unpacked again.

    Returns
    -------
    pathlib.Path
        The folder holding the archive's members.
    """
    import hashlib

    archive = Path(archive)
    stat = archive.stat()
    key = hashlib.sha256(f"{archive.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    target = Path(cache) / f"{archive.name}-{key}"
    if not target.is_dir():
        unpack_archive(archive, target)
    return target
