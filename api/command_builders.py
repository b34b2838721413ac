"""Each domain command built in one place, from its actor and the validated request.

The API routes read a JSON body, the pages a form, into the same models (``api.schemas``,
``domain.inputs``) and hand them here, so a command is the same whichever door it came in by.
"""

from __future__ import annotations

from api.schemas import (
    ApproveIn,
    IssueInvoiceIn,
    NoteIn,
    PayoutIn,
    ReasonIn,
    RefundDecisionIn,
    RefundForm,
    ShipInvoiceIn,
)
from domain.commands import (
    AgreeRefund,
    ApplyRefund,
    Approve,
    ConfirmReceipt,
    DecideRefund,
    EditInvoice,
    EditOrder,
    EditRefund,
    IssueInvoice,
    Payout,
    RecordSettlement,
    RefundAccount,
    ReturnInvoice,
    ReturnOrder,
    ReturnRefund,
    ShipInvoice,
    VoidOrder,
)
from domain.inputs import InvoiceProfilePatch, SupplementaryPatch
from domain.order import Actor, BankCardRef, ConsigneeSnapshot, InvoiceProfileSnapshot, ProofRef

# --- the buyer's --------------------------------------------------------------------------


def edit_order(
    actor: Actor,
    body: SupplementaryPatch,
    invoice_profile: InvoiceProfileSnapshot | None,
    consignee: ConsigneeSnapshot | None = None,
) -> EditOrder:
    """Only the fields the buyer gave; ``invoice_profile`` is the snapshot of the chosen id,
    ``consignee`` the one typed or taken from the chosen address."""
    fields = body.model_dump(
        exclude_unset=True,
        exclude={"invoice_profile_id", "agreement_accepted", "consignee", "address_id", "remark"},
    )
    given = body.model_fields_set
    clear_backup = "reminder_backup_email" in fields and fields["reminder_backup_email"] is None
    return EditOrder(
        actor=actor,
        invoice_profile=invoice_profile,
        consignee=consignee,
        remark=body.remark or None,
        clear_reminder_backup_email=clear_backup,
        clear_consignee="consignee" in given and consignee is None,
        clear_remark="remark" in given and not body.remark,
        **fields,
    )


def confirm_receipt(actor: Actor) -> ConfirmReceipt:
    return ConfirmReceipt(actor=actor)


def decide_refund(actor: Actor, body: RefundDecisionIn) -> DecideRefund:
    return DecideRefund(actor=actor, decision=body.decision)


def apply_refund(
    actor: Actor, body: RefundForm, card: BankCardRef, proof: ProofRef | None
) -> ApplyRefund:
    """``card`` is the kept card of ``body.card_no`` (or, for a correction without one, the
    card on file); ``proof`` the stored upload of ``body.proof``, or None when none was sent."""
    return ApplyRefund(actor=actor, account=_account(body, card), proof=proof)


def edit_refund(
    actor: Actor, body: RefundForm, card: BankCardRef, proof: ProofRef | None
) -> EditRefund:
    return EditRefund(actor=actor, account=_account(body, card), proof=proof)


def _account(body: RefundForm, card: BankCardRef) -> RefundAccount:
    fields = body.model_dump(exclude={"proof", "card_no"})
    return RefundAccount.model_validate(fields | {"card": card})


def edit_invoice(actor: Actor, invoice_app_no: str, body: InvoiceProfilePatch) -> EditInvoice:
    return EditInvoice(actor=actor, invoice_app_no=invoice_app_no, patch=body)


# --- the back office's ----------------------------------------------------------------------


def approve(actor: Actor, body: ApproveIn) -> Approve:
    return Approve(actor=actor, platform_amount_fen=body.platform_amount_fen, note=body.note)


def return_order(actor: Actor, body: ReasonIn) -> ReturnOrder:
    return ReturnOrder(actor=actor, reason=body.reason)


def void_order(actor: Actor, body: ReasonIn) -> VoidOrder:
    return VoidOrder(actor=actor, reason=body.reason)


def record_settlement(actor: Actor, body: NoteIn) -> RecordSettlement:
    return RecordSettlement(actor=actor, note=body.note)


def agree_refund(actor: Actor, body: NoteIn) -> AgreeRefund:
    return AgreeRefund(actor=actor, note=body.note)


def return_refund(actor: Actor, body: ReasonIn) -> ReturnRefund:
    return ReturnRefund(actor=actor, reason=body.reason)


def issue_invoice(actor: Actor, invoice_app_no: str, body: IssueInvoiceIn) -> IssueInvoice:
    return IssueInvoice(
        actor=actor,
        invoice_app_no=invoice_app_no,
        invoice_number=body.invoice_number,
        issued_at=body.issued_at,
    )


def ship_invoice(actor: Actor, invoice_app_no: str, body: ShipInvoiceIn) -> ShipInvoice:
    return ShipInvoice(
        actor=actor,
        invoice_app_no=invoice_app_no,
        courier=body.courier,
        tracking_no=body.tracking_no,
    )


def return_invoice(actor: Actor, invoice_app_no: str, body: ReasonIn) -> ReturnInvoice:
    return ReturnInvoice(actor=actor, invoice_app_no=invoice_app_no, reason=body.reason)


# --- finance's ---------------------------------------------------------------------------


def payout(actor: Actor, body: PayoutIn) -> Payout:
    return Payout(
        actor=actor,
        amount_fen=body.amount_fen,
        bank_reference=body.bank_reference,
        paid_at=body.paid_at,
    )
