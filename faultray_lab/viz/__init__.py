"""Figures (``plot_*`` functions that return a matplotlib Figure) and the what-if panel.

``style`` (the paper style and deterministic saving), ``cascade``, ``sweep``, ``evaluation``,
``availability`` (one module per area) and ``widgets`` (ipywidgets). A new figure is a
``plot_*`` function here plus one entry in :mod:`faultray_lab.outputs.figures`.
"""
