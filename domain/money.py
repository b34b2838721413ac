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
