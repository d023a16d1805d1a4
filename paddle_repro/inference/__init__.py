"""Models and loaders rebuilt from a run folder, and what they predict.

The report package only reads files; everything that needs a trained network lives here:

* :mod:`.model` -- the run's checkpoint (``find_checkpoint``) and its model, built from the
  run's own ``config.yaml`` and loaded strictly (``build_trained_model``);
* :mod:`.predict` -- probabilities of preprocessed arrays, predictions over the Eval loader;
* :mod:`.images` -- image files through the Eval transforms to top-k class names
  (``tools/predict.py``);
* :mod:`.run_outputs` -- a finished run's FLOPs, gallery, per-class accuracy and confusion
  figure, computed here and drawn / written by ``paddle_repro.report``.
"""
