"""Money is integer fen everywhere; shares are basis points so no float ever rounds."""

from __future__ import annotations

BASIS_POINTS = 10_000


def format_fen(amount_fen: int) -> str:
    """2000 yuan as the guide prints it: ``RMB 2000.00``."""
    sign = "-" if amount_fen < 0 else ""
    yuan, fen = divmod(abs(amount_fen), 100)
    return f"{sign}RMB {yuan}.{fen:02d}"


def share_of(base_fen: int, share_bp: int) -> int:
    """``base × share`` rounded half-up to the fen (share in basis points, 5000 = 0.5)."""
    if base_fen < 0 or not 0 <= share_bp <= BASIS_POINTS:
        raise ValueError("share_of needs a non-negative base and a share between 0 and 1")
    return (base_fen * share_bp + BASIS_POINTS // 2) // BASIS_POINTS


def split_refundable(base_fen: int, share_bp: int) -> tuple[int, int]:
    """(invoice share, refundable share) of a base; the two always add up to the base."""
    refundable = share_of(base_fen, share_bp)
    return base_fen - refundable, refundable


def share_bp_from_fraction(fraction: float | str) -> int:
    """0.5 or "0.5" → 5000, refusing anything outside [0, 1] or finer than a basis point."""
    from decimal import Decimal, InvalidOperation

    try:
        value = Decimal(str(fraction)) * BASIS_POINTS
    except InvalidOperation as exc:
        raise ValueError(f"refund share {fraction!r} is not a number") from exc
    if value != value.to_integral_value() or not 0 <= value <= BASIS_POINTS:
        raise ValueError(f"refund share {fraction!r} must be between 0 and 1 in steps of 0.0001")
    return int(value)
