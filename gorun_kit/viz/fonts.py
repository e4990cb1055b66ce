"""Fonts for matplotlib figures: Latin text as before, Chinese text in a CJK font.

The course quotes its Chinese source, and DejaVu Sans (matplotlib's default)
has no CJK glyphs: such text would come out as empty boxes. matplotlib (3.6
and later) takes a list of font families and, glyph by glyph, falls back along
it, so :func:`use_cjk_fallback` keeps the default sans-serif family first and
puts an installed CJK font after it (``scripts/setup-debian.sh`` installs
Debian's ``fonts-noto-cjk``). Latin text still comes from DejaVu Sans; only
glyphs it lacks come from the CJK font.

A font installed after matplotlib built its font cache is not in that cache;
:func:`cjk_families` then registers the system's CJK font files itself.
"""
from __future__ import annotations

import contextlib
import functools
import re
from pathlib import Path

__all__ = ["BASE_FAMILY", "CJK_FAMILIES", "cjk_families", "use_cjk_fallback"]

BASE_FAMILY = "DejaVu Sans"
# Preferred first: Noto (Debian's fonts-noto-cjk, the Simplified Chinese face first), then
# what other systems ship (Source Han, WenQuanYi, Droid, macOS PingFang, Windows YaHei/SimHei).
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK TC", "Source Han Sans SC",
                "Source Han Sans CN", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Droid Sans Fallback",
                "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "SimHei")
_CJK_FILE = re.compile(r"cjk|sourcehan|wqy|wenquanyi|droidsansfallback|pingfang|hiragino|msyh|simhei", re.I)


@functools.lru_cache(maxsize=None)
def cjk_families() -> tuple[str, ...]:
    """The families of :data:`CJK_FAMILIES` matplotlib can use here, best first; () when none.

    When matplotlib's font list has none of them, the system's font files whose
    names look CJK are registered with ``fontManager.addfont`` first (a font
    installed after matplotlib's cache was built). Computed once per process.
    """
    from matplotlib import font_manager

    def known() -> tuple[str, ...]:
        names = {f.name for f in font_manager.fontManager.ttflist}
        return tuple(f for f in CJK_FAMILIES if f in names)

    found = known()
    if not found:
        for path in font_manager.findSystemFonts():
            if _CJK_FILE.search(Path(path).name):
                with contextlib.suppress(Exception):  # a damaged or unreadable font file: skip it
                    font_manager.fontManager.addfont(path)
        found = known()
    return found


def use_cjk_fallback() -> list[str]:
    """Make matplotlib draw CJK glyphs with an installed CJK font; return ``font.family`` as set.

    ``font.sans-serif`` gets :data:`BASE_FAMILY` then the CJK families in front
    of its other entries, and when ``font.family`` is matplotlib's default
    (``["sans-serif"]``) the best CJK family is added after it as the fallback. A
    family the user chose is left alone. Without a CJK font nothing changes.
    Calling it again changes nothing more.
    """
    import matplotlib

    rc = matplotlib.rcParams
    cjk = list(cjk_families())
    if not cjk:
        return list(rc["font.family"])
    front = [BASE_FAMILY, *cjk]
    rc["font.sans-serif"] = front + [f for f in rc["font.sans-serif"] if f not in front]
    if [f for f in rc["font.family"] if f not in cjk] == ["sans-serif"]:
        rc["font.family"] = ["sans-serif", cjk[0]]
    return list(rc["font.family"])
