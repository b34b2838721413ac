"""Bank CSV uploads.

Threat: an oversized or malformed bank CSV answered 500 or was cut silently at 2 MB.

Control: oversized → 413, malformed → 422 with a Chinese sentence, never 500, on the API and
the finance page.

The bank's result file: too large is 413 (never cut short), malformed is 422 with a
Chinese sentence (never 500), through the API and the finance page alike.
"""

from __future__ import annotations

import httpx

from api.services.payout_batch import MAX_FILE_BYTES
from tests.support.http_api import Api, refused_back_to
from tests.support.http_api import signed_in_pages as sign_in

HEADER = "退款编号,退款金额(元),银行流水号\n"


def _oversized() -> bytes:
    line = "TK000000000000000000,1000.00,NOPE\n"
    return (HEADER + line * (MAX_FILE_BYTES // len(line) + 10)).encode()


async def _upload(api: Api, body: bytes) -> httpx.Response:
    finance = await api.login("finance")
    return await api.http.post(
        "/api/finance/payouts/batch",
        files={"file": ("bank.csv", body, "text/csv")},
        headers=finance,
    )


async def test_upload_bank_file_over_2mb_is_413(api: Api) -> None:
    response = await _upload(api, _oversized())

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "银行回单文件超过 2 MB，请拆分后分批上传"


async def test_upload_bank_file_with_a_field_past_the_csv_limit_is_422(api: Api) -> None:
    body = (HEADER + f'TK1,1.00,"{"x" * 200_000}"\n').encode()

    response = await _upload(api, body)

    assert response.status_code == 422
    assert response.json()["detail"].startswith("银行回单 CSV 格式有误（第 2 行：field larger")


async def test_upload_bank_file_in_neither_utf8_nor_gbk_is_422(api: Api) -> None:
    response = await _upload(api, b"\xff\xfe\xff" * 10)

    assert response.status_code == 422
    assert response.json()["detail"].startswith("银行回单文件不是 UTF-8 或 GBK 编码的文本")


async def test_upload_bank_file_without_the_needed_header_is_422(api: Api) -> None:
    response = await _upload(api, b"a,b,c\n1,2,3\n")

    assert response.status_code == 422
    assert "表头须包含「退款编号」" in response.json()["detail"]


async def test_upload_bank_line_with_a_line_break_in_the_reference_refuses_that_line(
    api: Api,
) -> None:
    body = (HEADER + 'TK000000000000000001,1.00,"ICBC1\r\nBcc: x"\n').encode()

    response = await _upload(api, body)

    assert response.status_code == 200, response.text
    assert response.json()["refused"] == [
        {
            "line": 2,
            "refund_id": "TK000000000000000001",
            "outcome": "refused",
            "detail": "银行流水号不能包含换行或控制字符",
        }
    ]


async def test_upload_bank_file_over_2mb_on_the_page_says_so(api: Api) -> None:
    finance = await sign_in(api, "finance")

    page = await finance.post(
        "/finance/batch", files={"file": ("bank.csv", _oversized(), "text/csv")}
    )

    # The finance page again (a redirect: a reload uploads nothing), the refusal beside the
    # file input.
    assert refused_back_to(page, "/finance")
    assert (
        'class="field-error" id="batch-file-error">银行回单文件超过 2 MB，请拆分后分批上传'
        in page.text
    )
    assert "成功 " not in page.text  # no report: nothing of the file was applied


async def test_upload_malformed_bank_file_on_the_page_says_why(api: Api) -> None:
    finance = await sign_in(api, "finance")
    body = (HEADER + f'TK1,1.00,"{"x" * 200_000}"\n').encode()

    page = await finance.post("/finance/batch", files={"file": ("bank.csv", body, "text/csv")})

    assert refused_back_to(page, "/finance")
    assert "银行回单 CSV 格式有误" in page.text
