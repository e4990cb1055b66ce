"""gorun_kit: instruments for the Go runtime black-box course.

Data flows one way: toolchain -> build -> (trace | threads | gorun | lookpath)
-> viz -> notebooks. Import the module you need, e.g. ``from gorun_kit import build``.
"""
__version__ = "0.1.0"
