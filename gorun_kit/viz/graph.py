"""The graph type every graphviz picture of the kit returns.

A notebook stores what a picture's ``_repr_mimebundle_`` gives. graphviz's own
Digraph gives SVG alone, and JupyterLab does not render SVG from an untrusted
notebook (one just opened, before it has run), nor does every notebook viewer:
the picture then reads ``<graphviz.graphs.Digraph at 0x...>``. :class:`Graph`
also gives a PNG, which every frontend shows; a trusted JupyterLab still
prefers the SVG. Without the ``dot`` program the bundle is the DOT text and
how to install Graphviz.
"""
from __future__ import annotations

import base64

import graphviz

__all__ = ["Graph", "PNG_DPI"]

PNG_DPI = 96  # the size JupyterLab shows a PNG at is its pixel size: this matches the SVG's


class Graph(graphviz.Digraph):
    """A ``graphviz.Digraph`` whose notebook output is SVG, PNG and a text fallback."""

    def _repr_mimebundle_(self, include=None, exclude=None, **_):
        try:
            svg = self.pipe(format="svg", encoding="utf-8")
            at_dpi = self.copy()
            at_dpi.graph_attr["dpi"] = str(PNG_DPI)
            png = at_dpi.pipe(format="png")
        except graphviz.ExecutableNotFound:
            return {"text/plain": "Graphviz's dot program is not installed, so here is the DOT text "
                                  "(install it: apt-get install graphviz, or brew install graphviz):\n"
                                  + self.source}
        bundle = {"image/svg+xml": svg, "image/png": base64.b64encode(png).decode("ascii"),
                  "text/plain": f"<Graphviz picture {self.name or ''}>"}
        return {k: v for k, v in bundle.items()
                if (not include or k in include) and (not exclude or k not in exclude)}
