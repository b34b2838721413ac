"""Refund proof documents: checked by content, stored content-addressed, never in history.

Only the ProofRef (name, type, size, sha256) travels in the command; the file stays in
proof storage under its sha256, so the same upload twice is one file.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
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


def is_given(upload: UploadFile | None) -> bool:
    """Browsers send an empty, nameless part when no file was chosen."""
    return upload is not None and bool(upload.filename or upload.size)


def _display_name(name: str | None) -> str:
    base = PurePosixPath((name or "").replace("\\", "/")).name.strip()
    return re.sub(r"[\x00-\x1f\x7f]", "", base)[:200] or "proof"


async def _read_limited(upload: UploadFile, max_bytes: int) -> bytes:
    data = bytearray()
    while chunk := await upload.read(CHUNK_BYTES):
        data.extend(chunk)
        if len(data) > max_bytes:
            raise Problem(413, f"the proof document is larger than the limit of {max_bytes} bytes")
    return bytes(data)


async def store(upload: UploadFile, *, directory: Path, max_bytes: int) -> ProofRef:
    if upload.size is not None and upload.size > max_bytes:
        raise Problem(413, f"the proof document is larger than the limit of {max_bytes} bytes")
    data = await _read_limited(upload, max_bytes)
    kind = next(((mime, ext) for magic, mime, ext in SIGNATURES if data.startswith(magic)), None)
    if kind is None:
        raise invalid_field("proof", "the proof document must be a PDF, JPEG or PNG file")
    content_type, extension = kind
    digest = hashlib.sha256(data).hexdigest()
    key = f"{digest}.{extension}"
    await asyncio.to_thread(_write_once, directory / key, data)
    return ProofRef(
        key=key,
        filename=_display_name(upload.filename),
        content_type=content_type,
        size=len(data),
        sha256=digest,
    )


def _write_once(target: Path, data: bytes) -> None:
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written aside, then renamed: a crash never leaves half a file under the final name.
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as part:
        part.write(data)
    os.replace(part.name, target)


def path_of(proof: ProofRef, *, directory: Path) -> Path:
    path = directory / proof.key
    if not KEY.match(proof.key) or not path.is_file():
        raise not_found("proof document")
    return path
