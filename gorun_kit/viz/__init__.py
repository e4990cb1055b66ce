"""Pictures: one module per subject (trace, threads, lookpath, gorun, binary,
bench). Every function takes records and returns a ``graphviz.Digraph`` /
``graphviz.Source`` or a matplotlib ``Figure``; none of them runs anything."""
