"""The catalog model: a product is one product line on one platform."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field, field_validator

from domain.money import BASIS_POINTS
from domain.statuses import SettlementMode


class Platform(StrEnum):
    TAOBAO = "taobao"
    JD = "jd"
    SUNING = "suning"
    WEIMOB = "weimob"
    YOUZAN = "youzan"
    PINDUODUO = "pinduoduo"
    ALIEXPRESS = "aliexpress"
    DOUYIN = "douyin"
    KUAISHOU = "kuaishou"
    ALIBABA_1688 = "1688"

    @property
    def label(self) -> str:
        return PLATFORM_LABELS[self]


PLATFORM_LABELS = {
    Platform.TAOBAO: "淘宝",
    Platform.JD: "京东",
    Platform.SUNING: "苏宁",
    Platform.WEIMOB: "微盟",
    Platform.YOUZAN: "有赞",
    Platform.PINDUODUO: "拼多多",
    Platform.ALIEXPRESS: "速卖通",
    Platform.DOUYIN: "抖音",
    Platform.KUAISHOU: "快手",
    Platform.ALIBABA_1688: "1688",
}

PRODUCT_LINES = ("E3", "ME3", "E3+")


class Module(BaseModel):
    """附加服务: an add-on the buyer ticks, with its price."""

    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=100)
    price_fen: int = Field(gt=0)


class Product(BaseModel):
    code: str = Field(min_length=1, max_length=40)
    line: str
    platform: Platform
    name: str = Field(min_length=1, max_length=100)
    settlement_mode: SettlementMode
    refund_share_bp: int = Field(ge=0, le=BASIS_POINTS)
    modules: list[Module] = Field(min_length=1)
    agreement: str
    notice: str
    active: bool = True

    @field_validator("line")
    @classmethod
    def _known_line(cls, value: str) -> str:
        if value not in PRODUCT_LINES:
            raise ValueError(f"product line must be one of {', '.join(PRODUCT_LINES)}")
        return value

    @field_validator("refund_share_bp")
    @classmethod
    def _share_fits_mode(cls, value: int, info) -> int:  # type: ignore[no-untyped-def]
        mode = info.data.get("settlement_mode")
        if mode is SettlementMode.INVOICE_ONLY and value != 0:
            raise ValueError("an invoice_only product refunds nothing (refund share 0)")
        if mode is SettlementMode.REFUND_ONLY and value != BASIS_POINTS:
            raise ValueError("a refund_only product refunds everything (refund share 1)")
        if mode is SettlementMode.INVOICE_AND_REFUND and not 0 < value < BASIS_POINTS:
            raise ValueError(
                "an invoice_and_refund product refunds a share strictly between 0 and 1"
            )
        return value

    @property
    def min_price_fen(self) -> int:
        return min(module.price_fen for module in self.modules)

    def pick_modules(self, codes: list[str]) -> list[Module]:
        """The chosen modules in catalog order; ValueError names unknown or repeated codes."""
        if len(set(codes)) != len(codes):
            raise ValueError("a module was chosen twice")
        known = {module.code for module in self.modules}
        unknown = [code for code in codes if code not in known]
        if unknown:
            raise ValueError(f"unknown module(s) for {self.code}: {', '.join(unknown)}")
        return [module for module in self.modules if module.code in codes]
