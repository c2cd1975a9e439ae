"""Root pytest configuration: headless matplotlib for tests and for notebook kernels."""

import os

os.environ.setdefault("MPLBACKEND", "agg")
