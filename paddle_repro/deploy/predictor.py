"""``InferenceModel``: an exported folder run by Paddle Inference (not dygraph).

``paddle.inference.Config`` + ``create_predictor`` over the folder's program and weights; the
input images go through the folder's ``inference.yml`` transforms with
``paddle_repro.data.transforms.build_transforms`` -- the code ``tools/eval.py`` runs -- so an
image file gives the same input tensor as the same pixels inside the Eval data set.

The folder is checked before a predictor exists: Paddle Inference runs a program whose
``inference.pdiparams`` is missing on uninitialised weights (NaN probabilities, exit 0) and
fails on an empty or truncated one with a C++ traceback; here each is one
``InferenceModelError`` naming the file (``check_params``). ``inference.pdiparams`` is raw
tensors read by Paddle's C++ loader, not a pickle: nothing in it can run.

On CPU the predictor uses oneDNN unless the folder's ``inference.yml`` recorded it off at
export or the caller says otherwise (``onednn.py``).
"""
import logging
import os

import numpy as np
import paddle
import paddle.inference as paddle_infer
from tqdm import tqdm

from paddle_repro.custom_imports import import_custom_modules
from paddle_repro.data.transforms import build_transforms
from paddle_repro.inference.images import PredictError, load_image as read

from . import onednn as onednn_choice
from .errors import InferenceModelError
from .files import META_FILE, PARAMS_FILE, program_file
from .meta import read_meta, sha256_of

log = logging.getLogger("paddle_repro")


def load_image(path):
    """uint8 RGB [H, W, 3], the layout the data sets hand to their transforms."""
    try:
        return read(path)
    except PredictError as err:
        raise InferenceModelError(str(err)) from None


def check_params(folder, meta):
    """Refuses a missing, empty, truncated or replaced ``inference.pdiparams``.

    Raises:
        InferenceModelError: naming the file; the sha256 check needs ``params_sha256`` in
            inference.yml (exports since it was added), the others do not.
    """
    path = os.path.join(folder, PARAMS_FILE)
    fix = "Re-export the model with tools/export_model.py (or copy the folder again)."
    if not os.path.isfile(path):
        raise InferenceModelError(f"{path} is missing: it holds the model's weights, without which "
                                  f"Paddle Inference would predict with uninitialised ones. {fix}")
    if os.path.getsize(path) == 0:
        raise InferenceModelError(f"{path} is empty: the weights were not written or were lost. {fix}")
    expected = meta["Model"].get("params_sha256")
    if not expected:
        log.warning(f"{folder} was exported before inference.yml recorded params_sha256, so a "
                    f"truncated {PARAMS_FILE} cannot be told from a whole one; re-export it to "
                    "get that check.")
    elif sha256_of(path) != expected:
        raise InferenceModelError(f"{path} is not the weights file exported with this folder (its "
                                  f"sha256 differs from inference.yml's params_sha256): truncated or "
                                  f"replaced. {fix}")


def _config(folder, device, threads, onednn):
    program = program_file(folder)
    if program is None:
        raise InferenceModelError(f"{folder} holds no inference.json / inference.pdmodel: export "
                                  "the model first with tools/export_model.py.")
    config = paddle_infer.Config(program, os.path.join(folder, PARAMS_FILE))
    if device == "gpu":
        if not paddle.is_compiled_with_cuda():
            raise InferenceModelError("--device gpu needs paddlepaddle-gpu; this Paddle is CPU-only.")
        config.enable_use_gpu(256, 0)
    else:
        config.disable_gpu()
        config.set_cpu_math_library_num_threads(int(threads))
        onednn_choice.configure(config, onednn)
    config.disable_glog_info()
    return config


# Images per predictor run for a folder. Measured (docs/deploy.md, "Deployment peer table", 1
# thread, oneDNN): batch 8 -> 64/128 gives ShuffleNetV2 1.75x, AlexNet-BN 1.15x, CondConv 1.25x
# the img/s; ACmix and ResNet50-NAM are flat past 8. 64 is the AlexNets' largest measured batch
# and holds 64 x 3 x 128 x 128 floats (13 MB) at their input size.
BATCH_SIZE = 64


class InferenceModel:
    """A Paddle Inference predictor of one exported folder.

    Args:
        folder: written by ``tools/export_model.py`` (program, inference.pdiparams, inference.yml).
        device: ``"cpu"`` or ``"gpu"``.
        threads: CPU math threads.
        onednn: oneDNN (MKL-DNN) kernels on CPU: True / False, or None for the choice
            inference.yml recorded at export (on for a folder exported before it was).

    Attributes:
        onednn: whether this predictor runs oneDNN (always False on GPU).
        onednn_note: why (the export's note, or that the caller chose).
    """

    def __init__(self, folder, device="cpu", threads=1, onednn=None):
        self.folder = folder
        self.meta = read_meta(folder)
        check_params(folder, self.meta)
        self.image_shape = list(self.meta["PreProcess"]["image_shape"])
        self.class_names = list(self.meta["PostProcess"]["class_names"])
        if onednn is None:
            self.onednn, self.onednn_note = onednn_choice.recorded(self.meta, folder)
        else:
            self.onednn, self.onednn_note = bool(onednn), "set by the caller"
        self.onednn = self.onednn and device != "gpu"
        config = _config(folder, device, threads, self.onednn)
        try:
            self.predictor = paddle_infer.create_predictor(config)
        except (RuntimeError, ValueError, OSError) as err:  # Paddle's C++ errors arrive as these
            lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
            reason = next((ln for ln in lines if not ln.startswith("[")), type(err).__name__)
            raise InferenceModelError(
                f"Paddle Inference cannot load {folder} ({reason[:200]}): its program or "
                f"{PARAMS_FILE} is damaged (truncated?) or from another model. Re-export the model "
                "with tools/export_model.py.") from None
        self._transform = None

    def logits(self, x):
        """Logits of a preprocessed batch: float32 [N, C, H, W] -> [N, num_classes].

        Raises:
            InferenceModelError: the batch is not [N, *image_shape] (the program was traced for
                those C, H, W; ACmix's window masks, for one, are constants of that size).
        """
        x = np.ascontiguousarray(x, dtype="float32")
        if x.ndim != 4 or list(x.shape[1:]) != self.image_shape:
            raise InferenceModelError(
                f"{self.meta['Model']['name']} was exported for inputs "
                f"[N, {', '.join(map(str, self.image_shape))}], got {list(x.shape)}; resize the "
                "images (or re-export with another Global.image_shape).")
        handle = self.predictor.get_input_handle(self.predictor.get_input_names()[0])
        handle.reshape(list(x.shape))
        handle.copy_from_cpu(x)
        self.predictor.run()
        return self.predictor.get_output_handle(self.predictor.get_output_names()[0]).copy_to_cpu()

    def preprocess(self, image):
        """uint8 RGB [H, W, 3] -> float32 [C, H, W] through the inference.yml transforms."""
        if self._transform is None:
            import_custom_modules(self.meta["PreProcess"].get("custom_imports"),
                                  f"{os.path.join(self.folder, META_FILE)}: PreProcess.custom_imports")
            self._transform = build_transforms(self.meta["PreProcess"]["transforms"])
        return np.asarray(self._transform(image), dtype="float32")

    def predict_files(self, paths, topk=5, batch_size=BATCH_SIZE, progress=False):
        """Top-k classes of image files, ``batch_size`` images per predictor run.

        Images are read and preprocessed one batch at a time, so memory holds one batch of
        float32 [batch_size, C, H, W], not the whole folder. Each image's result does not
        depend on ``batch_size`` (tests/test_onednn.py).

        Args:
            paths: image files.
            topk: classes per image.
            batch_size: images per predictor run.
            progress: show a tqdm bar over the images (the caller decides: tools/infer.py
                shows it on a terminal only).

        Returns:
            list of ``{"image": path, "topk": [{"class_id", "class_name", "prob"}, ...]}``.
        """
        results = []
        bar = tqdm(total=len(paths), unit="img", desc="infer", disable=not progress, leave=False)
        for start in range(0, len(paths), batch_size):
            chunk = paths[start:start + batch_size]
            batch = np.stack([self.preprocess(load_image(p)) for p in chunk])
            logits = self.logits(batch)
            probs = np.exp(logits - logits.max(axis=1, keepdims=True))
            probs /= probs.sum(axis=1, keepdims=True)
            for path, p in zip(chunk, probs):
                order = np.argsort(-p, kind="stable")[:topk]
                results.append({"image": path, "topk": [
                    {"class_id": int(i), "prob": float(p[i]),
                     "class_name": self.class_names[i] if i < len(self.class_names) else f"class {i}"}
                    for i in order]})
            bar.update(len(chunk))
        bar.close()
        return results
