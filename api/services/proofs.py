"""Refund proof files: checked by content, stored content-addressed, never in history."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from fastapi import UploadFile

from api.errors import Problem, field_error
from domain.order import ProofRef

# What the guide accepts for the company-stamped proof, recognised by magic bytes.
SIGNATURES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
)
KEY_PATTERN = re.compile(r"^[0-9a-f]{64}\.(pdf|png|jpg)$")
CHUNK = 64 * 1024


def _safe_name(name: str | None) -> str:
    base = os.path.basename((name or "").replace("\\", "/")).strip() or "proof"
    return re.sub(r"[\x00-\x1f]", "", base)[:200]


async def store_proof(upload: UploadFile, directory: Path, max_bytes: int) -> ProofRef:
    data = bytearray()
    while chunk := await upload.read(CHUNK):
        data.extend(chunk)
        if len(data) > max_bytes:
            raise Problem(413, f"the proof file is larger than {max_bytes // (1024 * 1024)} MB")
    if not data:
        raise field_error("proof", "the proof file is empty")
    kind = next(((mime, ext) for magic, mime, ext in SIGNATURES if data.startswith(magic)), None)
    if kind is None:
        raise field_error("proof", "the proof must be a PDF, JPEG or PNG file")
    content_type, ext = kind
    digest = hashlib.sha256(data).hexdigest()
    key = f"{digest}.{ext}"
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / key
    if not target.exists():
        # Write then rename, so a crash never leaves half a file under the final name.
        with tempfile.NamedTemporaryFile(dir=directory, delete=False) as tmp:
            tmp.write(data)
        os.replace(tmp.name, target)
    return ProofRef(
        key=key,
        filename=_safe_name(upload.filename),
        content_type=content_type,
        size=len(data),
        sha256=digest,
    )


def proof_path(directory: Path, proof: ProofRef) -> Path:
    if not KEY_PATTERN.match(proof.key):
        raise Problem(404, "proof not found")
    path = directory / proof.key
    if not path.is_file():
        raise Problem(404, "proof not found")
    return path
