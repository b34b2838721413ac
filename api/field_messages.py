"""Pydantic's field errors as the sentences a person reads: Chinese, naming the field by its
label ("请填写店铺名称", not "Field required"). The ``field`` stays the English name programs
use; only the message is translated."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from domain.account import ACCOUNT_LABELS
from domain.validation import CONSIGNEE_LABELS, FIELD_LABELS

SOURCES = frozenset({"body", "query", "path", "header", "cookie", "form"})


def field_path(location: Sequence[str | int]) -> str:
    """``("body", "module_codes", 0)`` → ``module_codes[0]``: the field as the caller sent it."""
    names = list(location[1:]) if location and location[0] in SOURCES else list(location)
    if not names or isinstance(names[0], int):
        return "body"  # the body as a whole; malformed JSON reports a character position
    path = str(names[0])
    for part in names[1:]:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def field_label(location: Sequence[str | int]) -> str:
    """The guide's name of the field at ``location``; "该项" for one it does not name."""
    names = [str(n) for n in location if isinstance(n, str) and n not in SOURCES]
    if not names:
        return "请求内容"
    if len(names) > 1 and names[-2] == "consignee" and names[-1] in CONSIGNEE_LABELS:
        return CONSIGNEE_LABELS[names[-1]]  # as the 收货人信息 form labels it
    name = names[-1]
    return FIELD_LABELS.get(name) or ACCOUNT_LABELS.get(name) or "该项"


def _sentence(kind: str, label: str, context: Mapping[str, Any], message: str) -> str:
    """One sentence per kind of pydantic error; rules of our own already speak Chinese."""
    if kind in ("value_error", "assertion_error"):
        return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind == "missing" or kind == "string_too_short":
        return f"请填写{label}"
    if kind == "string_too_long":
        return f"{label}不能超过{context.get('max_length', '')}个字"
    if kind in ("too_short", "too_long"):
        return f"{label}的数量不正确"
    if kind == "greater_than_equal":
        return f"{label}不能小于{context.get('ge', '')}"
    if kind == "greater_than":
        return f"{label}必须大于{context.get('gt', '')}"
    if kind == "less_than_equal":
        return f"{label}不能大于{context.get('le', '')}"
    if kind == "less_than":
        return f"{label}必须小于{context.get('lt', '')}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{label}应为整数"
    if kind in ("bool_parsing", "bool_type"):
        return f"{label}应为是或否"
    if kind in ("literal_error", "enum"):
        return f"{label}的取值不在可选范围内"
    if kind in ("datetime_parsing", "datetime_type", "datetime_from_date_parsing"):
        return f"{label}应为日期时间，例如 2026-01-31T10:00:00+08:00"
    if kind == "extra_forbidden":
        return "不接受此字段"
    if kind == "json_invalid":
        return "请求内容不是有效的 JSON"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"{label}格式不正确" if label != "请求内容" else "请求内容应为 JSON 对象"
    return f"{label}格式不正确"


def chinese_message(error: Mapping[str, Any]) -> str:
    """The Chinese sentence for one error of ``ValidationError.errors()``."""
    location = tuple(error.get("loc", ()))
    return _sentence(
        str(error.get("type", "")),
        field_label(location),
        error.get("ctx") or {},
        str(error.get("msg", "")),
    )
