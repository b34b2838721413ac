"""所属地区: China's province-level divisions and their prefecture-level cities (districts
for the municipalities and the SARs), from ``regions.json``, and the check of a refund's
region against them.

A region is written "省份 城市" ("广东省 广州市"); a municipality or SAR may stand alone
("上海市"). Short forms are taken and written out in full ("广东 广州" → "广东省 广州市").
The file is read on first use, never at import: workflow code imports the domain too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REGIONS_FILE = Path(__file__).with_name("regions.json")
REGION_INVALID = "所属地区不是已知的省份和城市，请选择省份和城市（如「广东省 广州市」）"
# Half- and full-width spaces, and the separators people type between the two names.
SEPARATORS = re.compile(r"[\s\u3000/,，、-]+")


@dataclass(frozen=True)
class Province:
    name: str
    short: str
    # A municipality or SAR is a region by itself.
    whole: bool
    cities: tuple[str, ...]

    def city(self, text: str) -> str | None:
        """The city's full name, given in full or without its trailing 市."""
        wanted = text.removesuffix("市")
        return next((c for c in self.cities if c == text or c.removesuffix("市") == wanted), None)


@cache
def provinces() -> tuple[Province, ...]:
    data = json.loads(REGIONS_FILE.read_text(encoding="utf-8"))
    return tuple(
        Province(name=p["name"], short=p["short"], whole=p["whole"], cities=tuple(p["cities"]))
        for p in data["provinces"]
    )


def province(text: str) -> Province | None:
    return next((p for p in provinces() if text in (p.name, p.short)), None)


def normalized_region(text: str) -> str | None:
    """The region written out in full ("广东省 广州市", or "上海市"), or None when it names
    no known province and city."""
    parts = [part for part in SEPARATORS.split(text.strip()) if part]
    if len(parts) == 1:
        parts = _split_run_together(parts[0])
    found = province(parts[0]) if parts else None
    if found is None or len(parts) > 2:
        return None
    if len(parts) == 1:
        return found.name if found.whole else None
    city = found.city(parts[1])
    return f"{found.name} {city}" if city else None


def _split_run_together(text: str) -> list[str]:
    """ "广东省广州市" as ["广东省", "广州市"]; a name that stands alone stays whole."""
    if province(text) is not None:
        return [text]
    for p in provinces():
        for prefix in (p.name, p.short):
            if text.startswith(prefix) and len(text) > len(prefix):
                return [prefix, text[len(prefix) :]]
    return [text]
