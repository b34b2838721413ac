"""A back-office or finance action form that was refused: the post answers with a redirect
to its page (api.web.kept_forms), which comes back with the error beside the form's field
and what was typed still in it, not in a banner above an emptied form."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from api.errors import Problem
from api.web.kept_forms import kept_form, refused
from api.web.plumbing import field_errors, redirect

# The API's name of a field where the page's input has another (it asks for yuan).
PAGE_FIELD = {"platform_amount_fen": "platform_amount_yuan"}


@dataclass(frozen=True)
class FailedAction:
    """Which form on the page (``form_id``, as the template names it), what it held, and
    each of its inputs' error."""

    form_id: str
    values: Mapping[str, Any] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)


def beside_the_form(error: Problem | ValidationError) -> bool:
    """Whether a refusal is about what the form held (shown beside its input, the form kept);
    otherwise (not found, or a dependency down: 503) it is a sentence above the page."""
    status = error.status if isinstance(error, Problem) else 422
    return 400 <= status < 500 and status != 404


def failed_action(
    form_id: str,
    form: Mapping[str, Any],
    inputs: Sequence[str],
    error: Problem | ValidationError | str,
) -> FailedAction:
    """The refusal placed beside the inputs it names; one naming none of them (a rule of
    the order's, say) goes beside the form's first input."""
    if isinstance(error, str):
        named: dict[str, str] = {}
        general = error
    else:
        named = {PAGE_FIELD.get(k, k): v for k, v in field_errors(error).items() if v}
        general = error.detail if isinstance(error, Problem) else ""
    errors = {name: message for name, message in named.items() if name in inputs}
    stray = [message for name, message in named.items() if name not in inputs]
    if not errors:
        errors = {inputs[0]: "；".join(stray) or general or "请检查填写的内容"}
    values = {name: str(form.get(name, "")) for name in inputs}
    return FailedAction(form_id, values, errors)


def answer_refusal(
    request: Request,
    error: Problem | ValidationError,
    *,
    back: str,
    form_id: str,
    form: Mapping[str, Any],
    inputs: Sequence[str] | None,
    form_page: str | None = None,
) -> RedirectResponse:
    """The one answer to a refused action form: beside its inputs on ``form_page`` (default
    ``back``) with what was typed kept; a refusal not about what it held (not found, a
    dependency down), or a form without inputs, as a sentence above ``back``."""
    if not inputs or not beside_the_form(error):
        sentence = error.detail if isinstance(error, Problem) else "请检查填写的内容"
        return redirect(back, err=sentence)
    return refused_action(request, form_page or back, failed_action(form_id, form, inputs, error))


def refused_action(request: Request, page: str, failed: FailedAction) -> RedirectResponse:
    """Back to ``page``, which shows ``failed`` once (``failed_on``)."""
    return refused(request, page, failed_form=asdict(failed))


def failed_on(request: Request) -> FailedAction | None:
    """The refused action form a redirect left for this page, if any."""
    kept = kept_form(request).get("failed_form")
    if not isinstance(kept, dict):
        return None
    return FailedAction(
        str(kept.get("form_id", "")), dict(kept.get("values", {})), dict(kept.get("errors", {}))
    )
