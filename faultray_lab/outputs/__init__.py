"""What the toolkit writes: ``figures`` (the registry; the only writer of paper figures),
``tables`` (paper tables), ``analyses`` (the data behind both), ``paper`` (``faultray-lab
figures``), ``report`` (the HTML report) and ``notebooks`` (papermill runs, ``reproduce``).
"""
