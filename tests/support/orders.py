"""Order states as the API builds them, without the stack (for loading a database or
starting runs directly)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from db.seed import default_catalog
from domain.calendar import service_end
from domain.catalog import Product
from domain.money import format_fen
from domain.order import Actor, ConsigneeSnapshot, Event, OrderState, ProductSnapshot
from tests.support.samples import BUYER, ORDER_CONTACTS, PROFILE_SNAPSHOT


def product(code: str) -> Product:
    return next(p for p in default_catalog() if p.code == code)


def product_snapshot(product: Product) -> ProductSnapshot:
    """What an order keeps of its catalog product."""
    return ProductSnapshot(
        code=product.code,
        name=product.name,
        line=product.line,
        platform=product.platform,
        settlement_mode=product.settlement_mode,
        refund_share_bp=product.refund_share_bp,
        agreement=product.agreement,
    )


CONSIGNEE = ConsigneeSnapshot(
    name="张三",
    mobile="13800138000",
    phone="021-12345678",
    postcode="200120",
    address="上海市浦东新区峨山路91弄120号",
)


def new_order(
    product: Product, *, order_no: str, placed_at: datetime, tag: str, buyer: Actor = BUYER
) -> OrderState:
    """The order as placed (what api/services/orders.new_order builds), first module only."""
    modules = product.modules[:1]
    standard = sum(m.price_fen for m in modules)
    return OrderState(
        order_no=order_no,
        buyer=buyer.username,
        buyer_company=buyer.company,
        buyer_email=f"{buyer.username}@example.com",
        product=product_snapshot(product),
        modules=modules,
        standard_fen=standard,
        invoice_profile=PROFILE_SNAPSHOT,
        contract_name=PROFILE_SNAPSHOT.title,
        service_market_order_no=f"SM{tag}",
        shop_name=f"压测店{tag[-6:]}",
        **ORDER_CONTACTS,
        # Unique per order number, as the bench bulk-loads them; the API draws it at random.
        app_key=hashlib.sha256(order_no.encode()).hexdigest()[:32].upper(),
        consignee=CONSIGNEE,
        remark="请尽快开通",
        placed_at=placed_at,
        service_end_at=service_end(placed_at),
        events=[
            Event(
                at=placed_at,
                actor=f"{buyer.company}({buyer.username})",
                action="place",
                detail=f"{product.name} {format_fen(standard)}",
            )
        ],
    )
