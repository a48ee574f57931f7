"""Small data that scalefit generates or transcribes itself.

Installed as ``scalefit.datasets.data``; read it through :mod:`scalefit.datasets`.
Every file here has a note on its source in ``scalefit/datasets/data/README.md``.
"""
