"""账户信息: what a user may change of their own account, checked field by field."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

from domain import validation

# The guide's names of the 账户信息 fields.
ACCOUNT_LABELS = {
    "company": "公司名称",
    "contact_name": "联系人",
    "mobile": "手机号码",
    "email": "邮箱",
}
CONTACT_NAME_MAX = 50


def _contact_name(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("请填写联系人")
    if len(value) > CONTACT_NAME_MAX:
        raise ValueError(f"联系人不能超过 {CONTACT_NAME_MAX} 个字")
    if not validation.is_one_line(value):
        raise ValueError("联系人不能包含换行或控制字符")
    return value


def _mobile(value: str) -> str:
    value = value.strip()
    error = validation.mobile_error(value)
    if error:
        raise ValueError(error)
    return value


def _email(value: str) -> str:
    value = value.strip()
    error = validation.email_error(value)
    if error:
        raise ValueError(error)
    return value


def _company_read_only(value: Any) -> None:
    raise ValueError("公司名称不可修改，如需变更请联系客服")


class AccountInput(BaseModel):
    """PUT /api/me and the 账户信息 form: fields left out (or null) keep their value."""

    # Unknown fields are refused, so nobody can change their role or username here.
    model_config = ConfigDict(extra="forbid")

    # The company is the account's identity on invoices and orders: shown, never changed.
    company: Annotated[None, BeforeValidator(_company_read_only)] = None
    contact_name: Annotated[str, AfterValidator(_contact_name)] | None = None
    mobile: Annotated[str, AfterValidator(_mobile)] | None = None
    email: Annotated[str, AfterValidator(_email)] | None = None

    def changes(self) -> dict[str, str]:
        """The fields given, by name."""
        return {
            name: value
            for name, value in self.model_dump(exclude={"company"}).items()
            if value is not None
        }
