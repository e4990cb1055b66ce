"""Pictures: one module per subject (trace, threads, lookpath, gorun, binary,
bench). Every function takes records and returns a ``graphviz.Digraph`` /
``graphviz.Source`` or a matplotlib ``Figure``; none of them runs anything.

Importing any of them sets matplotlib up to draw Chinese text with an installed
CJK font (:func:`.fonts.use_cjk_fallback`; Latin text is unchanged)."""
from .fonts import use_cjk_fallback as _use_cjk_fallback

_use_cjk_fallback()
