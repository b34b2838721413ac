"""Every change anybody can ask of an order, one typed command each.

The action names the Workflow Update a command travels by; what the step means (who,
from which states, its effect and label) is declared in ``domain.steps``."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, Field

from domain.inputs import InvoiceProfilePatch, OneLine, RefundAccountFields
from domain.order import Actor, BankCardRef, ConsigneeSnapshot, InvoiceProfileSnapshot, ProofRef
from domain.statuses import RefundDecision


class Action(StrEnum):
    EDIT = "edit"
    CONFIRM_RECEIPT = "confirm_receipt"
    DECIDE_REFUND = "decide_refund"
    APPLY_REFUND = "apply_refund"
    EDIT_REFUND = "edit_refund"
    APPROVE = "approve"
    RETURN = "return"
    VOID = "void"
    RECORD_SETTLEMENT = "record_settlement"
    AGREE_REFUND = "agree_refund"
    RETURN_REFUND = "return_refund"
    PAYOUT = "payout"
    ISSUE_INVOICE = "issue_invoice"
    SHIP_INVOICE = "ship_invoice"
    RETURN_INVOICE = "return_invoice"
    EDIT_INVOICE = "edit_invoice"


Reason = Field(min_length=1, max_length=500)
Note = Field(default=None, max_length=500)


class Command(BaseModel):
    actor: Actor

    action: ClassVar[Action]


class EditOrder(Command):
    """修改信息: the fields given replace the order's; the rest keep their value."""

    contract_name: OneLine | None = None
    service_market_order_no: OneLine | None = None
    shop_name: OneLine | None = None
    seller_nick: OneLine | None = None
    baison_staff: OneLine | None = None
    reminder_name: OneLine | None = None
    reminder_mobile: str | None = None
    reminder_email: str | None = None
    reminder_backup_email: str | None = None
    invoice_profile: InvoiceProfileSnapshot | None = None
    consignee: ConsigneeSnapshot | None = None
    remark: str | None = None
    # None above means "unchanged"; the optional fields (backup address, consignee, remark)
    # are cleared on purpose with these.
    clear_reminder_backup_email: bool = False
    clear_consignee: bool = False
    clear_remark: bool = False

    action: ClassVar[Action] = Action.EDIT


class ConfirmReceipt(Command):
    action: ClassVar[Action] = Action.CONFIRM_RECEIPT


class DecideRefund(Command):
    decision: RefundDecision

    action: ClassVar[Action] = Action.DECIDE_REFUND


class RefundAccount(RefundAccountFields):
    """The refund account as a command carries it: the card number stays in the card vault."""

    card: BankCardRef


class ApplyRefund(Command):
    account: RefundAccount
    proof: ProofRef | None = None

    action: ClassVar[Action] = Action.APPLY_REFUND


class EditRefund(ApplyRefund):
    action: ClassVar[Action] = Action.EDIT_REFUND


class Approve(Command):
    platform_amount_fen: int | None = None
    note: OneLine | None = Note

    action: ClassVar[Action] = Action.APPROVE


class ReturnOrder(Command):
    reason: OneLine = Reason

    action: ClassVar[Action] = Action.RETURN


class VoidOrder(Command):
    reason: OneLine = Reason

    action: ClassVar[Action] = Action.VOID


class RecordSettlement(Command):
    note: OneLine | None = Note

    action: ClassVar[Action] = Action.RECORD_SETTLEMENT


class AgreeRefund(Command):
    note: OneLine | None = Note

    action: ClassVar[Action] = Action.AGREE_REFUND


class ReturnRefund(Command):
    reason: OneLine = Reason

    action: ClassVar[Action] = Action.RETURN_REFUND


class Payout(Command):
    amount_fen: int
    bank_reference: OneLine = Field(min_length=1, max_length=100)
    paid_at: datetime | None = None

    action: ClassVar[Action] = Action.PAYOUT


class InvoiceCommand(Command):
    invoice_app_no: str


class IssueInvoice(InvoiceCommand):
    invoice_number: OneLine = Field(min_length=1, max_length=64)
    issued_at: datetime | None = None

    action: ClassVar[Action] = Action.ISSUE_INVOICE


class ShipInvoice(InvoiceCommand):
    courier: OneLine = Field(min_length=1, max_length=50)
    tracking_no: OneLine = Field(min_length=1, max_length=64)

    action: ClassVar[Action] = Action.SHIP_INVOICE


class ReturnInvoice(InvoiceCommand):
    reason: OneLine = Reason

    action: ClassVar[Action] = Action.RETURN_INVOICE


class EditInvoice(InvoiceCommand):
    patch: InvoiceProfilePatch

    action: ClassVar[Action] = Action.EDIT_INVOICE
