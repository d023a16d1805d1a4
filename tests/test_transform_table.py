"""The one transform table (paddle_repro/data/transform_table.py): every row complete, every
name a config can use in it, both pipelines reading it, and the config loader checking each
split's list against that split's pipeline."""
import inspect
import random
from pathlib import Path

import numpy as np
import paddle.vision.transforms as T
import pytest
import yaml

from paddle_repro.config import ConfigError, load_config
from paddle_repro.data import batched as B
from paddle_repro.data.batched import compiler as C
from paddle_repro.data.transform_entries import build_entry, check_list
from paddle_repro.data.transform_table import IMAGE, NORMALIZE, TABLE, TO_CHW, Row, names
from paddle_repro.data.transforms import TRANSFORMS, TransformConfigError, build_transform

ROOT = Path(__file__).resolve().parents[1]
IMG = (np.random.RandomState(0).rand(32, 32, 3) * 255).astype(np.uint8)

CONFIG = """\
Global:
  epochs: 1
Arch:
  name: shufflenetv2_x0_5
  num_classes: 10
DataLoader:
  dataset:
    name: synthetic
  Train:
    pipeline: batched
    transforms:
      - HueTransform: {value: 0.1}
      - ToTensor: null
"""


def test_every_row_is_complete():
    """A standard builder, a batched class or an explicit None, a kind, nested kwargs."""
    assert Row._field_defaults == {}  # no defaults: a row cannot leave its batched column out
    with pytest.raises(TypeError):
        Row(TABLE["Resize"].standard, IMAGE, ())
    for name, row in TABLE.items():
        assert isinstance(row, Row) and len(row) == len(Row._fields), name
        assert callable(row.standard), name
        assert row.batched is None or inspect.isclass(row.batched), name
        assert row.kind in (IMAGE, TO_CHW, NORMALIZE), name
        params = inspect.signature(row.standard).parameters
        assert set(row.nested) <= set(params), name
        if row.batched is not None:  # it takes every keyword a config may give (checked once)
            bparams = inspect.signature(row.batched.__init__).parameters
            if not any(p.kind is p.VAR_KEYWORD for p in bparams.values()):
                assert set(params) <= set(bparams), name


def _entry_names(entry):
    """Names in one entry, nested ones (RandomApply.transform) included."""
    name = entry if isinstance(entry, str) else next(iter(entry))
    yield name
    kwargs = {} if isinstance(entry, str) else entry[name] or {}
    for key in (TABLE[name].nested if name in TABLE else ()):
        if key in kwargs:
            yield from _entry_names(kwargs[key])


def _config_transform_names():
    for path in sorted((ROOT / "configs").rglob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for split in ("Train", "Eval"):
            entries = ((data.get("DataLoader") or {}).get(split) or {}).get("transforms") or []
            for entry in entries:
                for name in _entry_names(entry):
                    yield path.name, name


def test_every_name_a_config_can_use_is_in_the_table():
    assert list(TRANSFORMS) == TABLE.builtin()  # the standard path's registry is a view of it
    assert set(C.OPS) | set(C.TAIL) == set(names("batched"))
    used = list(_config_transform_names())
    assert used, "no transform lists found under configs/"
    assert [(f, n) for f, n in used if n not in TABLE] == []
    for pipeline, error in (("paddle", TransformConfigError), ("batched", B.BatchedPipelineError)):
        with pytest.raises(error, match="unknown transform `Pad`"):  # outside it: refused
            check_list([{"Pad": None}, {"ToTensor": None}], pipeline, error=error)


@pytest.mark.parametrize("name, cls, value", [("SaturationTransform", T.SaturationTransform, 0.3),
                                              ("HueTransform", T.HueTransform, 0.2)])
def test_saturation_and_hue_build_on_the_standard_path(name, cls, value):
    ours, ref = build_transform({name: {"value": value}}), cls(value)
    for seed in range(3):
        random.seed(seed), np.random.seed(seed)
        a = ours(IMG.copy())
        random.seed(seed), np.random.seed(seed)
        np.testing.assert_array_equal(a, ref(IMG.copy()))
    assert a.shape == IMG.shape and a.dtype == np.uint8


def _write(tmp_path, text):
    path = tmp_path / "cfg.yaml"
    path.write_text(text)
    return path


def test_both_pipelines_load_saturation_and_hue(tmp_path):
    path = _write(tmp_path, CONFIG.replace("HueTransform", "SaturationTransform"))
    for pipeline in ("paddle", "batched"):
        cfg = load_config(path, ["DataLoader.Train.pipeline=%s" % pipeline])
        first = cfg["DataLoader"]["Train"]["transforms"][0]
        assert first == {"SaturationTransform": {"value": 0.1}}


def test_batched_transform_without_batched_implementation_fails_at_load(tmp_path, monkeypatch):
    """A row with batched None: `pipeline: batched` refuses it when the config is loaded,
    naming the file (and the override that chose the pipeline); `pipeline: paddle` runs it."""
    monkeypatch.setitem(TABLE, "HueTransform", TABLE["HueTransform"]._replace(batched=None))
    path = _write(tmp_path, CONFIG)
    with pytest.raises(ConfigError, match=r"from .*cfg\.yaml.*`HueTransform` is not supported by "
                                          r"pipeline: batched.*use pipeline: paddle"):
        load_config(path)
    no_pipeline = CONFIG.replace("    pipeline: batched\n", "")
    with pytest.raises(ConfigError, match=r"cfg\.yaml and override `-o DataLoader\.Train\.pipeline="
                                          r"batched`.*`HueTransform` is not supported"):
        load_config(_write(tmp_path, no_pipeline), ["DataLoader.Train.pipeline=batched"])
    assert load_config(path, ["DataLoader.Train.pipeline=paddle"])  # the standard path has it
    with pytest.raises(B.BatchedPipelineError, match="HueTransform.*not supported"):
        C.BatchTransform([{"HueTransform": {"value": 0.1}}, {"ToTensor": None}])


def test_batched_list_shape_and_values_fail_at_load(tmp_path):
    after = CONFIG.replace("      - HueTransform: {value: 0.1}\n      - ToTensor: null\n",
                           "      - ToTensor: null\n      - RandomHorizontalFlip: null\n")
    with pytest.raises(ConfigError, match=r"cfg\.yaml.*RandomHorizontalFlip comes after ToTensor"):
        load_config(_write(tmp_path, after))
    assert load_config(_write(tmp_path, after), ["DataLoader.Train.pipeline=paddle"])
    expand = CONFIG.replace("HueTransform: {value: 0.1}",
                            "RandomRotation: {degrees: 5, expand: true}")
    with pytest.raises(ConfigError, match=r"cfg\.yaml.*expand"):
        load_config(_write(tmp_path, expand))


def test_one_argument_check_for_both_pipelines():
    for pipeline, error in (("paddle", TransformConfigError), ("batched", B.BatchedPipelineError)):
        with pytest.raises(error, match=r"`RandomCrop`.*unexpected keyword `sz`.*did you mean "
                                        r"`size`.*valid arguments: size, padding"):
            build_entry({"RandomCrop": {"sz": 3}}, pipeline, error=error)
        with pytest.raises(error, match=r"`RandomCrop`.*missing.*size"):
            build_entry({"RandomCrop": None}, pipeline, error=error)
        with pytest.raises(error, match=r"RandomApply\.transform: unknown transform `Nope`"):
            build_entry({"RandomApply": {"transform": "Nope"}}, pipeline, error=error)
    assert issubclass(B.BatchedPipelineError, TransformConfigError)


def test_docs_list_every_table_name():
    doc = (ROOT / "docs" / "data.md").read_text(encoding="utf-8")
    assert [n for n in TABLE.builtin() if "| `%s` |" % n not in doc] == []
