"""harutils: the package behind the temporal human action recognition series.

Layers, imports pointing down only (``tests/test_structure.py``): ``data`` (video I/O, datasets, splits, sampling,
the frame cache, a run's data pipeline, the synthetic dataset and its actor masks) -> ``models`` (the six models,
one file each with its builder and card, in a registry) -> the engine (``config``, ``recipes``, ``train``,
``evaluate``, ``checkpoints``, ``runtime``, ``pretext``) -> explanations and figures (``explain``,
``explanation_scores``, ``viz``, ``tracking``) -> the runners (``experiment``, ``series``, ``results``, ``index_page``).

Vocabulary, one name per concept everywhere:

- *profile*: ``"demo"`` (CPU, the synthetic dataset, small models) or ``"full"`` (GPU, the real datasets);
- *recipe*: the full profile's ``"reference"`` (the report as published) or ``"improved"``;
- *model size*: ``model_size="small"`` (the demo's narrow networks) or ``"paper"``;
- *frame size*: ``frame_size``, the shorter side frames are decoded at (cached or not);
- *clip*: consecutive frames a model takes; *view*: one of the clips or frame sets a video is scored on at test
  time; *card*: what a model declares about itself (``model.card``);
- *weights folder*: where named pretrained files are found (``weights_dir``, ``$HARUTILS_WEIGHTS``).
"""

__version__ = "0.1.0"
