"""gorun_kit.viz.fonts: figures draw Chinese text with a CJK font, Latin text as before.

With a CJK font installed (scripts/setup-debian.sh installs fonts-noto-cjk),
a figure made after importing gorun_kit.viz draws CJK text without
matplotlib's "Glyph ... missing from font(s)" warning; Latin text still comes
from DejaVu Sans; without a CJK font the settings are left as they were.
"""
from __future__ import annotations

import shutil
import subprocess
import warnings

import pytest

matplotlib = pytest.importorskip("matplotlib")
from matplotlib import font_manager  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from gorun_kit.viz import fonts  # noqa: E402


def _noto_installed() -> bool:
    if not shutil.which("dpkg-query"):
        return False
    out = subprocess.run(["dpkg-query", "-W", "-f=${Status}", "fonts-noto-cjk"], capture_output=True, text=True)
    return "ok installed" in out.stdout


def _missing_glyph_warnings(text: str) -> list[str]:
    fig = Figure(figsize=(4, 2))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ax.set_title(text)
        ax.set_xlabel("ms since start")
        fig.canvas.draw()
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def test_cjk_text_draws_without_missing_glyphs_when_a_cjk_font_is_installed():
    if _noto_installed():
        assert "Noto Sans CJK SC" in fonts.cjk_families() or "Noto Sans CJK JP" in fonts.cjk_families(), \
            "fonts-noto-cjk is installed but matplotlib cannot use it"
    if not fonts.cjk_families():
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk; scripts/setup-debian.sh does)")
    with matplotlib.rc_context():
        family = fonts.use_cjk_fallback()
        assert family[0] == "sans-serif" and family[1] in fonts.CJK_FAMILIES
        assert _missing_glyph_warnings("第一章 Go运行时黑盒解密导论") == []
        # Latin text is still drawn with the default font.
        latin = font_manager.findfont(font_manager.FontProperties(family=matplotlib.rcParams["font.family"]))
        assert "DejaVuSans" in latin.replace(" ", ""), latin
        # Calling it again changes nothing more.
        assert fonts.use_cjk_fallback() == family
        assert matplotlib.rcParams["font.sans-serif"].count(fonts.BASE_FAMILY) == 1


def test_importing_the_kits_viz_sets_the_fallback():
    import gorun_kit.viz  # noqa: F401  (the import applied it)

    if fonts.cjk_families():
        assert fonts.cjk_families()[0] in matplotlib.rcParams["font.family"]


def test_without_a_cjk_font_nothing_changes(monkeypatch):
    monkeypatch.setattr(fonts, "cjk_families", lambda: ())
    with matplotlib.rc_context({"font.family": ["sans-serif"], "font.sans-serif": ["DejaVu Sans", "Arial"]}):
        assert fonts.use_cjk_fallback() == ["sans-serif"]
        assert matplotlib.rcParams["font.sans-serif"] == ["DejaVu Sans", "Arial"]


def test_a_family_the_user_chose_is_left_alone(monkeypatch):
    monkeypatch.setattr(fonts, "cjk_families", lambda: ("Noto Sans CJK SC",))
    with matplotlib.rc_context({"font.family": ["serif"]}):
        assert fonts.use_cjk_fallback() == ["serif"]
        assert matplotlib.rcParams["font.sans-serif"][:2] == ["DejaVu Sans", "Noto Sans CJK SC"]
