"""harutils: helpers for the temporal human action recognition series.

Subpackages follow pytorchvideo's split: ``data`` (video I/O, datasets, splits, sampling, cache),
``models`` (the five classic video models), then training, evaluation, explanation and report helpers.
"""

__version__ = "0.1.0"
