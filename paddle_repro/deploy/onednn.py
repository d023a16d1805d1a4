"""oneDNN (formerly MKL-DNN) for the CPU predictor: on by default, chosen per model at export.

PaddleClas's recent deploy config turns oneDNN on (``enable_mkldnn: True`` in
``deploy/configs/inference_cls.yaml``; older versions had False), and on a CPU it is what makes the exported predictor fast: 1.1-5.8x the plain predictor in
one run on a shared machine (benchmarks/RESULTS.md, "Exported predictor vs dygraph eval"). So:

* ``tools/export_model.py`` runs the saved program once with oneDNN and records the choice in
  ``inference.yml`` as ``Predictor: {onednn: true|false, onednn_note: <why>}``: on when its
  logits equal the dygraph model's within ``RTOL`` of their scale, off (with the reason) when
  the oneDNN predictor fails or differs on this Paddle, or when the model is in ``KNOWN_OFF``;
* ``InferenceModel`` / ``tools/infer.py`` use the recorded choice; ``--no-onednn`` /
  ``--onednn`` override it. A folder exported before the key existed gets ``default_for``
  its model name (on, unless ``KNOWN_OFF`` names it).

Measured on Paddle 3.3.1 and 2.6.2 (tests/test_onednn.py: random init, randomised BatchNorm,
batch 1 and 3): oneDNN agrees with the dygraph model to <= 3e-6 of the logits' scale for
ShuffleNetV2, AlexNet-BN, AlexNet-CondConv (its batch-free export formulation), AlexNet-ACmix
and ResNet50-NAM, so no family is off. The config API is ``enable_onednn`` /
``disable_onednn`` on Paddle 3.x and ``enable_mkldnn`` / ``disable_mkldnn`` on 2.6 (3.x keeps
the old names too).
"""
import numpy as np

from .errors import InferenceModelError
from .files import META_FILE

# oneDNN's kernels sum in another order than the plain CPU kernels (blocked layouts, fused
# conv+BN+ReLU), so logits differ by float rounding: <= 3e-6 of their scale measured (module
# doc); 1e-4 leaves room for trained weights and stays far below a wrong kernel's error.
RTOL = 1e-4
DEFAULT_ON = True
# registry name -> why oneDNN must stay off for it, whatever the export-time check says.
# Empty: every family passes on Paddle 3.3.1 and 2.6.2 (module doc). A family found wrong on some
# Paddle goes here with the version and the observed error, and in docs/deploy.md.
KNOWN_OFF = {}


def configure(config, on):
    """Turns oneDNN on or off in a ``paddle.inference.Config`` (CPU), on Paddle 2.6 and 3.x.

    Paddle 3.x enables oneDNN in a fresh Config by default and 2.6 does not, so the choice
    is always set explicitly, never left to the version's default.
    """
    if on:
        (getattr(config, "enable_onednn", None) or config.enable_mkldnn)()
    else:
        (getattr(config, "disable_onednn", None) or config.disable_mkldnn)()


def default_for(name):
    """(on, note) for a folder whose inference.yml predates the ``Predictor`` section."""
    if name in KNOWN_OFF:
        return False, KNOWN_OFF[name]
    return DEFAULT_ON, "inference.yml has no Predictor.onednn (exported before it was recorded)"


def recorded(meta, folder):
    """(on, note): the export's choice from ``inference.yml``, else ``default_for``.

    Raises:
        InferenceModelError: ``Predictor.onednn`` is present but not true/false.
    """
    section = meta.get("Predictor")
    if not isinstance(section, dict) or "onednn" not in section:
        return default_for(meta["Model"]["name"])
    on = section["onednn"]
    if not isinstance(on, bool):
        raise InferenceModelError(f"{folder}/{META_FILE}: Predictor.onednn must be true or false, "
                                  f"got {on!r}; fix it or re-export the model.")
    return on, str(section.get("onednn_note", ""))


def predictor_section(on, note):
    """The ``Predictor`` dict of inference.yml."""
    return {"onednn": bool(on), "onednn_note": str(note)}


def relative_error(got, reference):
    """max |got - reference| / max |reference| (float; inf for NaN or a shape mismatch)."""
    got, reference = np.asarray(got), np.asarray(reference)
    if got.shape != reference.shape:
        return float("inf")
    diff = float(np.max(np.abs(got - reference)))
    scale = max(float(np.max(np.abs(reference))), 1e-30)
    return diff / scale if np.isfinite(diff) else float("inf")

