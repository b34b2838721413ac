"""收货地址 in the buyer center: the address book's list, add, edit, delete and default."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from api import responses, schemas
from api.deps import SessionDep
from api.errors import Problem
from api.services import addresses
from api.web import forms
from api.web.kept_forms import kept_form, refused
from api.web.plumbing import BuyerPage, field_errors, redirect, render
from db import addresses as address_queries
from domain.order import Actor
from domain.validation import CONSIGNEE_LABELS

router = APIRouter(include_in_schema=False)

PAGE = "/my/addresses"


async def saved_addresses(session: AsyncSession, me: Actor) -> list[schemas.AddressOut]:
    """The buyer's addresses, the default first."""
    found = await address_queries.addresses(session, buyer=me.username)
    return [responses.address_out(a) for a in found]


async def _page(
    request: Request,
    me: Actor,
    session: AsyncSession,
    *,
    editing: int | str | None = None,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "my_addresses.html",
        me,
        section="my",
        addresses=await saved_addresses(session, me),
        consignee_labels=CONSIGNEE_LABELS,
        editing=editing,
        form=form or {},
        errors=errors or {},
    )


@router.get(PAGE, response_class=HTMLResponse, response_model=None)
async def address_book(request: Request, me: BuyerPage, session: SessionDep) -> Response:
    kept = kept_form(request)  # a refused address form, open again with its errors
    return await _page(
        request,
        me,
        session,
        editing=kept.get("editing"),
        form=kept.get("form"),
        errors=kept.get("errors"),
    )


@router.post(PAGE, response_model=None)
async def create_address(request: Request, me: BuyerPage, session: SessionDep) -> Response:
    form = await forms.form_of(request)
    try:
        await addresses.create(session=session, buyer=me.username, data=forms.address(form))
    except ValidationError as error:
        return refused(request, PAGE, editing="new", form=form, errors=field_errors(error))
    return redirect(PAGE, ok="收货地址已保存")


@router.post(PAGE + "/{address_id}", response_model=None)
async def update_address(
    request: Request, address_id: int, me: BuyerPage, session: SessionDep
) -> Response:
    form = await forms.form_of(request)
    try:
        await addresses.replace(
            session=session, buyer=me.username, address_id=address_id, data=forms.address(form)
        )
    except ValidationError as error:
        return refused(request, PAGE, editing=address_id, form=form, errors=field_errors(error))
    except Problem:
        return redirect(PAGE, err="收货地址不存在")
    return redirect(PAGE, ok="收货地址已更新")


@router.post(PAGE + "/{address_id}/default", response_model=None)
async def make_default(address_id: int, me: BuyerPage, session: SessionDep) -> Response:
    try:
        await addresses.make_default(session=session, buyer=me.username, address_id=address_id)
    except Problem:
        return redirect(PAGE, err="收货地址不存在")
    return redirect(PAGE, ok="已设为默认地址")


@router.post(PAGE + "/{address_id}/delete", response_model=None)
async def delete_address(address_id: int, me: BuyerPage, session: SessionDep) -> Response:
    try:
        await addresses.delete(session=session, buyer=me.username, address_id=address_id)
    except Problem:
        return redirect(PAGE, err="收货地址不存在")
    return redirect(PAGE, ok="收货地址已删除")
