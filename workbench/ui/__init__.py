"""The desktop application (PySide6 + pyqtgraph): the only package that imports Qt."""

from workbench.ui.qtcompat import guard_singleton_refcounts

guard_singleton_refcounts()
