"""Uploads: the proof's size limit, its type told by content (not name), hostile file names,
many files, and bodies too large refused before they are read."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path
from typing import Any

from tests.reliability.report import Section
from tests.support.http_api import PROOF_LIMIT_BYTES, Api, ok, refund_chosen
from tests.support.samples import PDF, REFUND_FORM

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


async def _decided(api: Api) -> str:
    """A JD order whose buyer chose 退款: ready for a refund application."""
    return await refund_chosen(api)


def _tree(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


async def test_uploaded_proofs_are_checked_by_size_content_and_name(
    api: Api, report: Section
) -> None:
    """Proof uploads: size, type by content, file names, many files

    A proof over the limit is 413 and stores nothing; the type comes from the file's first
    bytes whatever its name or declared type; a hostile file name never reaches the file
    system or a header; more than one file in a form is refused.
    """
    buyer = await api.login("leiliang")
    data_dir = Path(api.settings.data_dir)
    proof_dir = api.settings.proof_dir
    before = _tree(data_dir)

    async def apply(no: str, files: Any) -> Any:
        return await api.http.post(
            f"/api/orders/{no}/refund", data=REFUND_FORM, files=files, headers=buyer
        )

    refused_order = await _decided(api)
    refusals: dict[str, tuple[int, str]] = {}
    cases = {
        "one byte over the limit": [
            ("proof", ("p.pdf", PDF + b"0" * (PROOF_LIMIT_BYTES - len(PDF) + 1), "application/pdf"))
        ],
        "text named .pdf": [("proof", ("证明.pdf", b"just text, no stamp", "application/pdf"))],
        "HTML declared as PDF": [
            ("proof", ("证明.pdf", b"<html><script>x</script></html>", "application/pdf"))
        ],
        "Windows program named .png": [
            ("proof", ("scan.png", b"MZ\x90\x00" + b"\x00" * 64, "image/png"))
        ],
        "two proof files": [("proof", ("a.pdf", PDF, "application/pdf"))] * 2,
        "thirty files": [("proof", (f"{i}.pdf", PDF, "application/pdf")) for i in range(30)],
        "empty file": [("proof", ("empty.pdf", b"", "application/pdf"))],
    }
    for name, files in cases.items():
        response = await apply(refused_order, files)
        refusals[name] = (response.status_code, response.headers["content-type"])
    order = await ok(api.http.get(f"/api/orders/{refused_order}", headers=buyer))
    stored_after_refusals = _tree(data_dir) - before

    accepted: dict[str, dict[str, Any]] = {}
    for name, (filename, content, declared) in {
        "exactly at the limit": (
            "limit.pdf",
            PDF + b"0" * (PROOF_LIMIT_BYTES - len(PDF)),
            "application/pdf",
        ),
        "PNG named .pdf": ("证明.pdf", PNG, "application/pdf"),
        "JPEG named .exe": ("scan.exe", JPEG, "application/octet-stream"),
        "path traversal (POSIX)": ("../../../../tmp/evil.pdf", PDF + b"1", "application/pdf"),
        "path traversal (Windows)": ("..\\..\\..\\boot.pdf", PDF + b"2", "application/pdf"),
        "header injection": (
            'a"\r\nSet-Cookie: owned=1\r\nX: ".pdf',
            PDF + b"3",
            "application/pdf",
        ),
    }.items():
        no = await _decided(api)
        refund = await ok(apply(no, {"proof": (filename, content, declared)}), 201)
        download = await api.http.get(f"/api/refunds/{refund['refund_id']}/proof", headers=buyer)
        accepted[name] = {"refund": refund, "download": download, "content": content}

    new_files = _tree(data_dir) - before
    report.try_(
        f"{len(cases)} refused uploads (over the {PROOF_LIMIT_BYTES}-byte limit of this test, "
        "content not PDF/JPEG/PNG under a .pdf/.png name or declared type, two and thirty "
        "files in one form, an empty file) and "
        f"{len(accepted)} accepted ones (at the limit, PNG named .pdf, JPEG named .exe, "
        "'../' and '..\\\\' names, a name carrying CR LF and a header)"
    )
    for name, (status, _) in refusals.items():
        report.count(f"refused: {name}", status)

    assert refusals["one byte over the limit"][0] == 413
    assert all(
        refusals[n][0] == 422
        for n in (
            "text named .pdf",
            "HTML declared as PDF",
            "Windows program named .png",
            "empty file",
        )
    )
    assert refusals["two proof files"][0] == refusals["thirty files"][0] == 400
    assert all(ct == "application/problem+json" for _, ct in refusals.values())
    assert order["refund"] is None and stored_after_refusals == set()
    report.hold(
        "over the limit 413; not a PDF, JPEG or PNG by its first bytes 422; more than one "
        "file in the form 400; all problem+json, and nothing stored or applied"
    )
    kinds = {name: a["download"].headers["content-type"] for name, a in accepted.items()}
    assert kinds["PNG named .pdf"] == "image/png"
    assert kinds["JPEG named .exe"] == "image/jpeg"
    assert all(a["download"].content == a["content"] for a in accepted.values())
    report.hold(
        "the stored type is the one the content shows (PNG named .pdf is served as image/png)"
    )
    assert all(p.parent == proof_dir for p in new_files), sorted(new_files)
    assert all(len(p.stem) == 64 for p in new_files)
    disposition = [a["download"].headers["content-disposition"] for a in accepted.values()]
    assert not any("/" in d or "\\" in d or ".." in d for d in disposition), disposition
    assert all("set-cookie" not in a["download"].headers for a in accepted.values())
    report.hold(
        "every file landed in the proof directory under its SHA-256, whatever its name; a "
        "'../' or '..\\\\' name wrote nothing elsewhere and is served as its last part; a "
        "name carrying CR LF injected no header"
    )


def _raw_request(
    port: int, head: str, body_prefix: bytes, timeout: float = 10
) -> tuple[bytes, int, float]:
    """Send a request head and part of its body; (answer, body bytes sent, seconds)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(head.encode("latin-1"))
        sent = 0
        answer = b""
        conn.settimeout(0.05)
        for start in range(0, len(body_prefix), 16384):
            try:
                conn.sendall(body_prefix[start : start + 16384])
                sent += len(body_prefix[start : start + 16384])
            except OSError:
                break
            try:
                answer += conn.recv(65536)
            except (TimeoutError, BlockingIOError):
                continue
            except OSError:
                break
            if answer:
                break
        conn.settimeout(timeout)
        while b"\r\n\r\n" not in answer:
            try:
                chunk = conn.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            answer += chunk
        return answer, sent, time.monotonic() - started


async def test_oversized_bodies_are_refused_before_they_are_read(e2e: Api, report: Section) -> None:
    """Oversized request bodies refused early

    Against the real API process (uvicorn): a body whose declared length is over the limit
    is answered 413 problem+json after the first bytes, not after the whole body; a chunked
    body is cut off at the limit.
    """
    token = (await e2e.login("leiliang"))["Authorization"]
    port = e2e.settings.api_port
    cases = {
        "multipart upload declaring 200 MB": (
            f"POST /api/orders/BS-ZX202210181408310000/refund HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: {token}\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            f"Content-Length: {200 * 1024 * 1024}\r\n\r\n",
            b"--b\r\n" + b"x" * 256 * 1024,
        ),
        "JSON order declaring 20 MB": (
            f"POST /api/orders HTTP/1.1\r\nHost: x\r\nAuthorization: {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {20 * 1024 * 1024}\r\n\r\n",
            b'{"shop_name": "' + b"x" * 256 * 1024,
        ),
        "chunked JSON past 1 MiB": (
            f"POST /api/orders HTTP/1.1\r\nHost: x\r\nAuthorization: {token}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"".join(b"4000\r\n" + b"x" * 0x4000 + b"\r\n" for _ in range(80)),
        ),
    }
    for name, (head, body) in cases.items():
        answer, sent, seconds = await asyncio.to_thread(_raw_request, port, head, body)
        status_line, _, rest = answer.partition(b"\r\n")
        report.count(
            f"{name}: answer, body bytes sent before it",
            f"{status_line.decode(errors='replace')}, {sent}",
        )
        assert status_line.startswith(b"HTTP/1.1 413"), answer[:300]
        assert b"application/problem+json" in rest.lower()
        assert sent <= 2 * 1024 * 1024 and seconds < 5
    report.try_(
        "raw HTTP requests to the uvicorn process: a multipart upload declaring 200 MB, a JSON "
        "body declaring 20 MB, a chunked JSON body running past 1 MiB"
    )
    report.hold(
        "each was answered 413 problem+json before the rest of the body was sent (a "
        "declared length at once, a chunked body at the limit); nothing was read into memory "
        "or spooled to disk beyond it"
    )
