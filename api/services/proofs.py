"""Refund proof documents: checked by content, stored content-addressed, never in history.

Only the ProofRef (name, type, size, sha256) travels in the command; the file stays in
proof storage under its sha256, so the same upload twice is one file.

An upload is first held under ``pending/<buyer>/`` and kept (moved to its final name) only
once the workflow has accepted the refund that names it; a refused request deletes it. What
a crash leaves behind, and proofs a correction replaced, are removed by
``api.services.proof_sweep``, which the API runs periodically.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from fastapi import UploadFile

from api.errors import Problem, invalid_field, not_found
from domain.order import ProofRef

# The company-stamped proof may be a PDF, JPEG or PNG, told by its first bytes, not its name.
SIGNATURES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
)
KEY = re.compile(r"^[0-9a-f]{64}\.(pdf|png|jpg)$")
CHUNK_BYTES = 64 * 1024
PENDING = "pending"
# A held upload is named <random>_<key>: two requests holding the same content never share
# (nor delete) one file.
PENDING_NAME = re.compile(r"^[0-9a-f]{16}_(?P<key>[0-9a-f]{64}\.(pdf|png|jpg))$")


@dataclass(frozen=True)
class CheckedProof:
    """An upload read and recognised, not yet on disk."""

    data: bytes
    ref: ProofRef


def is_given(upload: UploadFile | None) -> bool:
    """Browsers send an empty, nameless part when no file was chosen."""
    return upload is not None and bool(upload.filename or upload.size)


def _display_name(name: str | None) -> str:
    base = PurePosixPath((name or "").replace("\\", "/")).name.strip()
    return re.sub(r"[\x00-\x1f\x7f]", "", base)[:200] or "proof"


def too_large(max_bytes: int) -> str:
    return f"退款证明文件不能超过 {max_bytes / 1024 / 1024:g} MB"


async def _read_limited(upload: UploadFile, max_bytes: int) -> bytes:
    data = bytearray()
    while chunk := await upload.read(CHUNK_BYTES):
        data.extend(chunk)
        if len(data) > max_bytes:
            raise Problem(413, too_large(max_bytes))
    return bytes(data)


async def read(upload: UploadFile, *, max_bytes: int) -> CheckedProof:
    if upload.size is not None and upload.size > max_bytes:
        raise Problem(413, too_large(max_bytes))
    data = await _read_limited(upload, max_bytes)
    kind = next(((mime, ext) for magic, mime, ext in SIGNATURES if data.startswith(magic)), None)
    if kind is None:
        raise invalid_field("proof", "退款证明须为 PDF、JPEG 或 PNG 文件")
    content_type, extension = kind
    digest = hashlib.sha256(data).hexdigest()
    ref = ProofRef(
        key=f"{digest}.{extension}",
        filename=_display_name(upload.filename),
        content_type=content_type,
        size=len(data),
        sha256=digest,
    )
    return CheckedProof(data=data, ref=ref)


def pending_dir(directory: Path, buyer: str) -> Path:
    # Named by a digest: a username never becomes a path.
    return directory / PENDING / hashlib.sha256(buyer.encode()).hexdigest()[:32]


async def hold(proof: CheckedProof, *, directory: Path, buyer: str) -> Path:
    """Write the upload aside until the workflow answers; the path to keep or discard."""
    target = pending_dir(directory, buyer) / f"{secrets.token_hex(8)}_{proof.ref.key}"
    await asyncio.to_thread(_write, target, proof.data)
    return target


def keep(held: Path, *, directory: Path) -> None:
    """The refund naming it was accepted: the proof takes its final, content-addressed name
    (replacing an older copy, which refreshes its age for the sweep)."""
    match = PENDING_NAME.match(held.name)
    if match is None or not held.exists():
        return
    os.replace(held, directory / match["key"])


def discard(held: Path) -> None:
    """The refund was refused: nothing will ever name this upload."""
    held.unlink(missing_ok=True)


def pending_bytes(directory: Path, buyer: str) -> int:
    folder = pending_dir(directory, buyer)
    if not folder.is_dir():
        return 0
    return sum(_size(f) for f in folder.iterdir())


def _size(path: Path) -> int:
    """A held file's size; 0 for one renamed or deleted since the folder was listed (a
    concurrent upload's ``.part`` becoming its final name, a refusal discarding it)."""
    try:
        return path.stat().st_size if path.is_file() else 0
    except FileNotFoundError:
        return 0


def _write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written aside, then renamed: a crash never leaves half a file under the final name.
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False, suffix=".part") as part:
        part.write(data)
    os.replace(part.name, target)


def path_of(proof: ProofRef, *, directory: Path) -> Path:
    if not KEY.match(proof.key):
        raise not_found("退款证明")
    path = directory / proof.key
    if path.is_file():
        return path
    # Accepted, but the API stopped before keeping it (the sweep will): still held.
    held = next(directory.glob(f"{PENDING}/*/*_{proof.key}"), None)
    if held is None:
        raise not_found("退款证明")
    return held
