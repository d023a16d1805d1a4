"""``export_model(cfg)``: what ``tools/export_model.py`` does.

Build ``Arch``, load ``Global.checkpoint`` strictly, trace it in eval mode with
``InputSpec [None, C, H, W]`` (``Global.image_shape``; any batch size) under the export
formulation (``formulation.py``), save with ``paddle.jit.save`` and write ``inference.yml``
(``meta.py``). The folder is ``Global.save_inference_dir`` (default ``<output_dir>/inference``).
The saved program is run back once without and once with oneDNN; the second run decides
``Predictor.onednn`` in inference.yml (``onednn.py``).

Files are first written to a temporary folder beside the target and moved in only once the
export succeeded, so a failed export (a full disk, a file-size limit) leaves an existing
folder as it was; a folder that holds another model (other registry name or checkpoint) is
refused, never overwritten. A target that is a file or cannot be written (read-only,
immutable) is refused before the model is even built.
"""
import os
import shutil
import tempfile

import numpy as np
import paddle

from paddle_repro.config import ConfigError
from paddle_repro.data import build_dataset
from paddle_repro.data.transform_entries import entry_names
from paddle_repro.data.transform_table import TABLE
from paddle_repro.data.transforms import build_transforms
from paddle_repro.inference.images import class_names_for
from paddle_repro.models import build_model_from_config
from paddle_repro.models.weights import resolve_weights_file
from paddle_repro.run_layout import INFERENCE_DIR
from paddle_repro.writable import cannot_write_reason

from .errors import ExportError, InferenceModelError
from . import onednn as onednn_choice
from .files import PARAMS_FILE, PREFIX, PROGRAM_FILES, model_files, program_file
from .formulation import export_formulation
from .meta import build_meta, sha256_of, write_meta
from .predictor import InferenceModel
from .target import cannot_write, check_room, check_target, check_writable, cut_short, weights_bytes

# the saved program's logits may differ from dygraph's by float rounding only: tests/test_export.py
# sees <= 1e-5 of the logits' scale for every model (CondConv's export formulation ~1e-6)
VERIFY_RTOL = 1e-3
ONEDNN_MODES = ("auto", "on", "off")
NATIVE_SIZE = {"cifar10": 32, "cifar100": 32, "synthetic": 32}  # stored image side of the data sets


def image_shape_of(cfg):
    """``Global.image_shape`` as (C, H, W) ints, checked against the Eval transforms.

    The transforms run on a blank image of the data set's stored size (``image_shape``'s own
    H, W for an image folder); their output must be ``image_shape``, else the config's
    image_shape was left at its default for a model that sees another size.

    Raises:
        ExportError: absent, not three positive ints, or not what the Eval transforms produce.
    """
    shape = cfg["Global"].get("image_shape")
    if not shape:
        raise ExportError("Export needs Global.image_shape ([C, H, W] of one input), e.g. "
                          "-o Global.image_shape=[3,32,32].")
    if len(shape) != 3 or not all(isinstance(v, int) and v > 0 for v in shape):
        raise ExportError(f"Global.image_shape must be three positive ints [C, H, W], got {shape!r}.")
    side = NATIVE_SIZE.get(cfg["DataLoader"]["dataset"]["name"])
    hw = (side, side) if side else (shape[1], shape[2])
    blank = np.zeros(hw + (shape[0],), dtype=np.uint8)
    produced = list(np.asarray(build_transforms(cfg["DataLoader"]["Eval"]["transforms"])(blank)).shape)
    if produced != list(shape):
        raise ExportError(f"Global.image_shape is {list(shape)} but the Eval transforms turn a "
                          f"{hw[0]}x{hw[1]} image into {produced}: the exported input would not match "
                          f"the preprocessing. Set -o Global.image_shape=[{','.join(map(str, produced))}].")
    return tuple(shape)


def save_program(model, folder, image_shape):
    """``paddle.jit.save`` of ``model`` (eval mode) for inputs [None, *image_shape].

    Returns:
        Path of the program file written (inference.json on Paddle 3, .pdmodel on 2.6).
    """
    model.eval()
    spec = [paddle.static.InputSpec([None] + list(image_shape), "float32", "x")]
    with export_formulation(model):
        paddle.jit.save(model, os.path.join(folder, PREFIX), input_spec=spec)
    path = program_file(folder)
    if path is None or not os.path.isfile(os.path.join(folder, PARAMS_FILE)):
        raise ExportError(f"paddle.jit.save wrote {sorted(os.listdir(folder))} to {folder}; expected "
                          f"one of {PROGRAM_FILES} and {PARAMS_FILE}.")
    return path


def _verify(tmp, probe, reference, folder):
    """Max |logits| difference of the saved program (Paddle Inference) and the dygraph model.

    Raises:
        ExportError: the files do not load back, or their logits are not the model's (beyond
            float rounding: ``VERIFY_RTOL`` of the logits' scale); ``folder`` stays as it was.
    """
    try:
        got = InferenceModel(tmp, onednn=False).logits(probe)
    except InferenceModelError as err:
        raise cut_short(tmp, folder, f"the exported files do not load back ({err})") from None
    diff = float(np.max(np.abs(got - reference)))
    scale = max(1.0, float(np.max(np.abs(reference))))
    if not np.isfinite(diff) or diff > VERIFY_RTOL * scale:
        raise cut_short(tmp, folder, f"the exported program's logits differ from the trained "
                                      f"model's by {diff:.3g} (allowed {VERIFY_RTOL * scale:.3g})")
    return diff


def choose_onednn(folder, name, probe, reference, mode="auto"):
    """The ``Predictor`` section of inference.yml: oneDNN on or off for this model, and why.

    Args:
        folder: the exported files (program, weights, inference.yml).
        name: registry name (``onednn.KNOWN_OFF``).
        probe: float32 [N, C, H, W] inputs; ``reference``: the dygraph model's logits of them.
        mode: ``"auto"`` (on when the oneDNN predictor runs ``probe`` and ``probe[:1]`` -- a
            batch of one may take other kernels -- within ``onednn.RTOL`` of ``reference``),
            ``"on"`` or ``"off"`` (recorded as asked, not checked).

    Returns:
        dict for ``build_meta(predictor=...)``. Never raises for a oneDNN failure: that is
        recorded as off with its reason, since the plain predictor was verified already.
    """
    version = f"Paddle {paddle.__version__}"
    if mode in ("on", "off"):
        return onednn_choice.predictor_section(mode == "on", f"{mode} as asked at export, not checked")
    if name in onednn_choice.KNOWN_OFF:
        return onednn_choice.predictor_section(False, onednn_choice.KNOWN_OFF[name])
    try:
        model = InferenceModel(folder, onednn=True)
        errors = [onednn_choice.relative_error(model.logits(x), ref)
                  for x, ref in ((probe, reference), (probe[:1], reference[:1]))]
    except Exception as err:  # noqa: BLE001  Paddle's C++ errors arrive as assorted types
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        return onednn_choice.predictor_section(False, f"off: the oneDNN predictor failed on "
                                                      f"{version} ({first})")
    worst = max(errors)
    if not worst <= onednn_choice.RTOL:
        return onednn_choice.predictor_section(False, (
            f"off: oneDNN logits differ from the dygraph model's by {worst:.2g} of their scale "
            f"on {version} (allowed {onednn_choice.RTOL:g})"))
    return onednn_choice.predictor_section(True, (
        f"on: oneDNN logits equal the dygraph model's within {worst:.1e} of their scale "
        f"on {version}"))


def _move_in(tmp, folder):
    os.makedirs(folder, exist_ok=True)
    for name in PROGRAM_FILES:  # a re-export by another Paddle version must not leave both
        stale = os.path.join(folder, name)
        if os.path.isfile(stale) and not os.path.isfile(os.path.join(tmp, name)):
            os.remove(stale)
    for name in os.listdir(tmp):
        os.replace(os.path.join(tmp, name), os.path.join(folder, name))


def _num_classes(cfg):
    """Classes from the Eval data set when it can be read (as tools/eval.py), else None."""
    try:
        return build_dataset(cfg["DataLoader"]["dataset"], cfg["DataLoader"]["Eval"], "test").num_classes
    except Exception:  # offline / absent data: Arch.num_classes (or the builder's default) decides
        return None


def preprocess_imports(cfg):
    """The config's ``custom_imports`` when its Eval transforms use a name they register, else
    None: the exported program itself needs no Python module (meta.py)."""
    imports = cfg.get("custom_imports")
    used = set(entry_names(cfg["DataLoader"]["Eval"]["transforms"]))
    return list(imports) if imports and used - set(TABLE.builtin()) else None


def export_model(cfg, verify=True, onednn="auto"):
    """Exports ``Global.checkpoint`` of ``cfg``'s Arch (see module doc).

    Args:
        cfg: a resolved config (``paddle_repro.config.load_config``).
        verify: run the saved program once with Paddle Inference at batch 2 and compare its
            logits with the dygraph model's (and choose oneDNN, ``choose_onednn``).
        onednn: ``"auto"`` (decided by that run), ``"on"`` or ``"off"``; without ``verify``,
            ``"auto"`` records the default (``onednn.default_for``) unchecked.

    Returns:
        dict: ``folder``, ``files`` (paths written), ``image_shape``, ``max_abs_diff`` (None
        unless verified), ``name``, ``predictor`` (inference.yml's Predictor section).

    Raises:
        ExportError, WeightsError (checkpoint of another architecture), ConfigError.
    """
    g = cfg["Global"]
    if onednn not in ONEDNN_MODES:
        raise ExportError(f"onednn must be one of {', '.join(ONEDNN_MODES)}, got {onednn!r}.")
    if not g.get("checkpoint"):
        raise ConfigError("tools/export_model.py needs weights: add "
                          "-o Global.checkpoint=<run>/best_model.pdparams.")
    image_shape = image_shape_of(cfg)
    folder = g.get("save_inference_dir") or os.path.join(g["output_dir"], INFERENCE_DIR)
    name = cfg["Arch"]["name"]
    checkpoint = resolve_weights_file(g["checkpoint"])
    digest = sha256_of(checkpoint)
    check_target(folder, name, digest)
    check_writable(folder)

    paddle.set_device("cpu")
    with paddle.utils.unique_name.guard():
        model = build_model_from_config(cfg, _num_classes(cfg), weights=checkpoint)
    need = weights_bytes(model)
    check_room(folder, need)
    model.eval()
    probe = np.random.RandomState(0).rand(2, *image_shape).astype("float32")
    try:
        with paddle.no_grad():
            reference = model(paddle.to_tensor(probe)).numpy()
    except (ValueError, RuntimeError) as err:
        raise ExportError(f"{name} cannot run on inputs of Global.image_shape {list(image_shape)}: "
                          f"{str(err).splitlines()[0]}") from None
    tmp = None
    try:
        os.makedirs(os.path.dirname(os.path.abspath(folder)), exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=".export-", dir=os.path.dirname(os.path.abspath(folder)))
        program = save_program(model, tmp, image_shape)
        written = os.path.getsize(os.path.join(tmp, PARAMS_FILE))
        if written < need:  # a short write Paddle's C++ did not report
            raise cut_short(tmp, folder, f"{PARAMS_FILE} came out {written} bytes long, less than "
                                          f"the {need} bytes of the weights")
        names = class_names_for(cfg, checkpoint, reference.shape[1])
        params_digest = sha256_of(os.path.join(tmp, PARAMS_FILE))

        def meta(predictor):
            return build_meta(name, digest, os.path.basename(program), image_shape,
                              cfg["DataLoader"]["Eval"]["transforms"], names[:reference.shape[1]],
                              preprocess_imports(cfg), params_sha256=params_digest,
                              predictor=predictor)
        on, note = onednn_choice.default_for(name)
        predictor = onednn_choice.predictor_section(on, "not checked at export (verify off): "
                                                        + ("on" if on else note))
        write_meta(tmp, meta(predictor))
        diff = None
        if verify:
            diff = _verify(tmp, probe, reference, folder)
        if verify or onednn != "auto":
            predictor = choose_onednn(tmp, name, probe, reference, onednn)
            write_meta(tmp, meta(predictor))
        _move_in(tmp, folder)
    except OSError as err:
        if cannot_write_reason(err) is None:
            raise
        raise cannot_write(folder, err) from None
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return {"folder": folder, "files": model_files(folder), "image_shape": list(image_shape),
            "max_abs_diff": diff, "name": name, "predictor": predictor}
