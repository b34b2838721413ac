"""Uploads.

Threat: proof uploads fill the disk: files were stored before the workflow accepted the
refund and never removed.

Control: a proof is kept only when the refund naming it is accepted; unreferenced files are
swept; per-buyer quota and rate.

Uploads cannot fill the disk: a proof is kept only when the refund naming it is accepted,
files no refund names are swept after the grace period, and each buyer has a rate and a
quota.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from api.services import proof_limits, proofs
from api.services.proof_sweep import sweep
from db import models
from tests.support.http_api import Api, refund_applied, refund_chosen_as
from tests.support.samples import PDF, REFUND_FORM

HOUR = 3600


def unique_pdf(size: int = 0) -> bytes:
    """A PDF no other test uploads (its own key), padded to about ``size`` bytes."""
    body = PDF + uuid.uuid4().hex.encode()
    return body + b"%" * max(0, size - len(body))


def key_of(data: bytes) -> str:
    return f"{hashlib.sha256(data).hexdigest()}.pdf"


def files_named(directory: Path, key: str) -> list[Path]:
    return [p for p in directory.rglob("*") if p.is_file() and p.name.endswith(key)]


async def _file_refund(
    http: httpx.AsyncClient, buyer: dict[str, str], order_no: str, data: bytes
) -> httpx.Response:
    return await http.post(
        f"/api/orders/{order_no}/refund",
        data=REFUND_FORM,
        files={"proof": ("证明.pdf", data, "application/pdf")},
        headers=buyer,
    )


async def test_apply_refund_refused_deletes_its_proof(api: Api) -> None:
    buyer = await api.login("leiliang")
    order = await api.place(buyer)  # not approved: a refund is refused
    data = unique_pdf()

    response = await _file_refund(api.http, buyer, order["order_no"], data)

    assert response.status_code == 409
    assert files_named(api.settings.proof_dir, key_of(data)) == []


async def test_apply_refund_accepted_keeps_its_proof_under_its_final_name(api: Api) -> None:
    buyer = await api.login("leiliang")
    no = await refund_chosen_as(api, buyer)
    data = unique_pdf()

    response = await _file_refund(api.http, buyer, no, data)

    assert response.status_code == 201, response.text
    assert files_named(api.settings.proof_dir, key_of(data)) == [
        api.settings.proof_dir / key_of(data)
    ]
    proof = await api.http.get(f"/api/refunds/{response.json()['refund_id']}/proof", headers=buyer)
    assert proof.content == data


def _aged(path: Path, data: bytes, seconds: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    moment = time.time() - seconds
    os.utime(path, (moment, moment))
    return path


async def _named_key(sessions: async_sessionmaker[AsyncSession], order_no: str) -> str:
    async with sessions() as session:
        data = await session.scalar(
            select(models.Refund.data).where(models.Refund.order_no == order_no)
        )
    assert data is not None
    return str(data["proof"]["key"])


async def test_sweep_deletes_old_unnamed_files_and_keeps_named_ones(
    api: Api, session_maker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    buyer = await api.login("leiliang")
    named = await _named_key(session_maker, (await refund_applied(api))["order_no"])
    other = await refund_chosen_as(api, buyer)
    assert (await _file_refund(api.http, buyer, other, unique_pdf())).status_code == 201
    named_held = await _named_key(session_maker, other)
    assert named != named_held
    held = proofs.pending_dir(tmp_path, "leiliang")
    old_orphan = _aged(tmp_path / key_of(orphan := unique_pdf()), orphan, 2 * HOUR)
    new_orphan = _aged(tmp_path / key_of(fresh := unique_pdf()), fresh, 60)
    old_named = _aged(tmp_path / named, PDF, 2 * HOUR)
    old_refused = _aged(held / f"{'a' * 16}_{key_of(unique_pdf())}", PDF, 2 * HOUR)
    crashed_part = _aged(held / "tmpab12.part", PDF, 2 * HOUR)
    new_held = _aged(held / f"{'c' * 16}_{key_of(unique_pdf())}", PDF, 60)
    # Accepted, but the API stopped before moving it to its final name.
    accepted_held = _aged(held / f"{'b' * 16}_{named_held}", PDF, 2 * HOUR)

    swept = await sweep(session_maker, tmp_path, grace_seconds=HOUR)

    assert (swept.kept, swept.deleted) == (1, 3)
    assert not old_orphan.exists() and not old_refused.exists() and not crashed_part.exists()
    assert new_orphan.exists() and new_held.exists() and old_named.exists()
    assert not accepted_held.exists() and (tmp_path / named_held).read_bytes() == PDF


@pytest.fixture
async def limited(
    api: Api, session_maker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """An API of its own (own upload counter and proof folder), over the same worker."""
    async with session_maker() as session:
        stored = await proof_limits.stored_bytes(session, tmp_path / "proofs", "zhangsan")
    settings = api.settings.model_copy(
        update={
            "data_dir": tmp_path,
            "proof_uploads_per_hour": 3,
            "proof_quota_bytes": stored + 4096,
        }
    )
    app = create_app(settings, temporal=api.temporal, sessions=session_maker)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http,
    ):
        yield http


async def test_upload_proof_past_the_hourly_rate_is_429_with_retry_after(
    api: Api, limited: httpx.AsyncClient
) -> None:
    buyer = await api.login("zhangsan")
    order = await api.place(buyer)

    answers = [
        await _file_refund(limited, buyer, order["order_no"], unique_pdf()) for _ in range(4)
    ]

    assert [a.status_code for a in answers] == [409, 409, 409, 429]
    refused = answers[-1]
    assert refused.headers["content-type"] == "application/problem+json"
    assert 3500 <= int(refused.headers["Retry-After"]) <= HOUR
    assert refused.json()["code"] == "too_many_uploads"
    assert refused.json()["detail"].startswith("上传退款证明过于频繁：每小时最多 3 次")


async def test_upload_proof_past_the_buyer_quota_is_413_and_nothing_is_written(
    api: Api, limited: httpx.AsyncClient, tmp_path: Path
) -> None:
    buyer = await api.login("zhangsan")
    no = await refund_chosen_as(api, buyer)
    too_big = unique_pdf(size=5000)

    refused = await _file_refund(limited, buyer, no, too_big)
    accepted = await _file_refund(limited, buyer, no, unique_pdf(size=1000))

    assert refused.status_code == 413
    assert refused.json()["code"] == "proof_quota_exceeded"
    assert "每位买家最多保存" in refused.json()["detail"]
    assert files_named(tmp_path, key_of(too_big)) == []
    assert accepted.status_code == 201, accepted.text


def test_pending_bytes_skips_a_file_that_vanishes_while_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A concurrent upload renames its .part between the listing and the size: not an error."""
    from api.services import proofs

    folder = proofs.pending_dir(tmp_path, "leiliang")
    folder.mkdir(parents=True)
    (folder / "kept.pdf").write_bytes(b"x" * 10)
    vanishing = folder / "gone.part"
    vanishing.write_bytes(b"y" * 5)
    listed = list(folder.iterdir())
    vanishing.unlink()
    monkeypatch.setattr(Path, "iterdir", lambda self: iter(listed))
    assert proofs.pending_bytes(tmp_path, "leiliang") == 10
