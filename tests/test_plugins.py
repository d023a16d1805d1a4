"""A user's module plugged in through the public decorators and ``custom_imports``.

What docs/extending.md promises, one piece at a time: each slot takes a registered entry as
it takes a built-in one, a name registered twice or an entry that cannot fit its slot fails
at registration, ``custom_imports`` imports from the working directory (a failure names the
module and its cause), a config without the key resolves as before, and the launchers hand
the working directory and PYTHONPATH to their training processes.
"""
import os
import subprocess
import sys
import textwrap

import numpy as np
import paddle
import pytest
import yaml

import paddle_repro
from paddle_repro import (register_attention, register_conv, register_flops, register_init,
                          register_model, register_transform, sublayers_flops)
from paddle_repro.config import ConfigError, load_config
from paddle_repro.data.transform_table import TABLE
from paddle_repro.deploy.export import preprocess_imports
from paddle_repro.launch.jobs import package_root, run_attempt, worker_pythonpath
from paddle_repro.models import (MODELS, ModelArgumentError, ModelChoiceError, build_model,
                                 build_model_from_config)
from paddle_repro.models.alexnet import CONVS
from paddle_repro.models.init import INITS
from paddle_repro.models.resnet import ATTENTIONS
from paddle_repro.models.summary import (CUSTOM_FLOPS, count_flops, format_summary,
                                         not_counted_user_types, summarize)
from paddle_repro.registry import DuplicateNameError, RegistrationError

REGISTRIES = (MODELS, ATTENTIONS, CONVS, INITS, CUSTOM_FLOPS, TABLE)


@pytest.fixture(autouse=True)
def restore_registries():
    """Whatever a test registers is gone afterwards (the registries are process-wide)."""
    saved = [dict(r) for r in REGISTRIES]
    yield
    for registry, entries in zip(REGISTRIES, saved):
        registry.clear()
        registry.update(entries)


class Gate(paddle.nn.Layer):
    """A tiny attention: x * sigmoid(scale), one scale per channel. [N, C, H, W] -> same."""

    def __init__(self, channels, hw, init=0.0):
        super().__init__()
        self.fc = paddle.nn.Conv2D(channels, channels, 1)
        self.hw = hw

    def forward(self, x):
        return x * paddle.nn.functional.sigmoid(self.fc(x))


def _tiny_config(tmp_path, extra="", arch="Arch: {name: resnet18, num_classes: 4}"):
    path = tmp_path / "cfg.yaml"
    path.write_text(textwrap.dedent(extra) + arch + "\nDataLoader: {dataset: {name: synthetic}}\n")
    return path


# ----- the decorators ------------------------------------------------------------------------
def test_a_registered_attention_goes_in_every_block_of_every_depth():
    register_attention("gate")(Gate)
    for name, blocks, channels in (("resnet18", 8, 64), ("resnet50", 16, 256)):
        model = build_model(name, num_classes=3, attention="gate", attention_options={"init": 1.0})
        gates = [m for m in model.sublayers() if isinstance(m, Gate)]
        assert len(gates) == blocks and gates[0].fc.weight.shape[0] == channels
        assert gates[0].hw == 32 * 32 and gates[-1].hw == 4 * 4  # H*W of each block's output
        assert model(paddle.zeros([2, 3, 32, 32])).shape == [2, 3]
    for depth in (34, 101, 152):  # every builder takes the slot (built above for 18 and 50)
        assert "attention" in __import__("inspect").signature(MODELS[f"resnet{depth}"]).parameters


def test_attention_names_and_options_are_checked_like_arch_keys():
    register_attention("gate")(Gate)
    with pytest.raises(ModelChoiceError, match=r"got 'gaet'.*did you mean `gate`.*register_attention.*custom_imports"):
        build_model("resnet18", attention="gaet")
    with pytest.raises(ModelArgumentError, match=r"attention 'gate': unknown argument.*'iinit'.*"
                                                 r"did you mean 'init'.*Arch.attention_options"):
        build_model("resnet18", attention="gate", attention_options={"iinit": 1})


def test_a_name_registered_twice_names_both_definitions():
    register_attention("gate")(Gate)
    register_attention("gate")(Gate)  # the same definition again (a reload): accepted

    class Other(Gate):
        pass

    with pytest.raises(DuplicateNameError, match=r"attention 'gate' is registered twice: by "
                                                 r"\S*test_plugins:Gate and by \S*test_plugins:test_a_name.*Other"):
        register_attention("gate")(Other)
    with pytest.raises(DuplicateNameError, match=r"paddle_repro.models.resnet:_nam_attention"):
        register_attention("nam")(Other)
    with pytest.raises(DuplicateNameError, match=r"transform 'Resize'.*paddle_repro.data.standard_ops:resize"):
        register_transform("Resize")(lambda size: (lambda img: img))
    assert ATTENTIONS["nam"].__name__ == "_nam_attention"  # the built-in one is untouched


def test_an_entry_that_cannot_fit_its_slot_fails_at_registration():
    with pytest.raises(RegistrationError, match="must take the keyword argument.*num_classes"):
        register_model("net")(lambda width=1: None)
    with pytest.raises(RegistrationError, match="2 positional"):
        register_attention("one_arg")(lambda channels: None)
    with pytest.raises(RegistrationError, match="non-empty string"):
        register_conv(Gate)
    with pytest.raises(RegistrationError, match="paddle.nn.Layer subclass"):
        register_flops("Gate")
    assert "net" not in MODELS and "one_arg" not in ATTENTIONS


def test_registered_model_conv_and_init_build_from_a_config_dict():
    @register_model("two_layer")
    def two_layer(num_classes=10, width=8):
        return paddle.nn.Sequential(paddle.nn.Conv2D(3, width, 3, padding=1),
                                    paddle.nn.AdaptiveAvgPool2D(1), paddle.nn.Flatten(),
                                    paddle.nn.Linear(width, num_classes))

    @register_init("zeros")
    def zeros(model):
        for p in model.parameters():
            p.set_value(paddle.zeros_like(p))
        return model

    register_conv("gated")(lambda cin, cout, k=1: paddle.nn.Conv2D(cin, cout, 2 * k + 1, padding=k))
    model = build_model_from_config({"Arch": {"name": "two_layer", "width": 4, "init": "zeros"}}, 5)
    assert model(paddle.ones([2, 3, 8, 8])).shape == [2, 5]
    assert all(float(paddle.abs(p).sum()) == 0 for p in model.parameters())
    alex = build_model("alexnet_bn", conv="gated", conv_options={"k": 1})
    assert alex(paddle.zeros([1, 3, 128, 128])).shape == [1, 10]
    assert MODELS.builtin() == [n for n in MODELS if n != "two_layer"]  # what the tests iterate


def test_flops_of_a_user_layer_are_marked_until_it_has_a_rule():
    register_attention("gate")(Gate)
    model = build_model("resnet18", num_classes=3, attention="gate")
    info = summarize(model, (3, 32, 32))
    assert info["not_counted_user_types"] == ["Gate"] == not_counted_user_types(model)
    assert "NOT COUNTED: the own operations of Gate" in format_summary("m", info, (3, 32, 32))
    base, _ = count_flops(model, (3, 32, 32))
    register_flops(Gate, sublayers_flops)  # its own op is the gate product: element-wise
    assert count_flops(model, (3, 32, 32))[0] == base and not_counted_user_types(model) == []

    class Whole(Gate):
        pass

    @register_flops(Whole)
    def whole(layer, x, y):
        return 1000

    register_attention("whole")(Whole)
    whole_model = build_model("resnet18", num_classes=3, attention="whole")
    # each block's 1x1 conv C -> C with a bias on its H*W outputs, C*HW*(C+1), two blocks a
    # stage, is replaced by the rule's 1000
    gate_convs = sum(2 * c * hw * (c + 1) for c, hw in ((64, 1024), (128, 256), (256, 64), (512, 16)))
    assert count_flops(whole_model, (3, 32, 32))[0] == base - gate_convs + 8 * 1000


def test_a_registered_transform_runs_on_the_standard_pipeline_only(tmp_path):
    @register_transform("Invert")
    def invert(strength=1.0):
        return lambda img: (255 - img) if strength else img

    path = _tiny_config(tmp_path)
    cfg = load_config(path, ["DataLoader.Eval.transforms=[{Invert: {strength: 1}}, ToTensor]"])
    from paddle_repro.data.transforms import build_transforms
    image = np.full((2, 2, 3), 10, np.uint8)
    out = build_transforms(cfg["DataLoader"]["Eval"]["transforms"])(image)
    assert np.allclose(out, 245 / 255)
    with pytest.raises(ConfigError, match="`Invert` is not supported by pipeline: batched"):
        load_config(path, ["DataLoader.Eval.transforms=[Invert, ToTensor]",
                           "DataLoader.Eval.pipeline=batched"])
    # an export records custom_imports only when such a transform is in the Eval list
    cfg["custom_imports"] = ["my_transforms"]
    assert preprocess_imports(cfg) == ["my_transforms"]
    cfg["DataLoader"]["Eval"]["transforms"] = [{"ToTensor": None}]
    assert preprocess_imports(cfg) is None


# ----- custom_imports --------------------------------------------------------------------------
@pytest.fixture
def user_folder(tmp_path, monkeypatch):
    """The working directory holds the user's modules; sys.path and sys.modules are restored."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        if name.startswith("user_"):
            del sys.modules[name]


def test_custom_imports_are_imported_from_the_working_directory(user_folder):
    (user_folder / "user_gate.py").write_text(textwrap.dedent("""
        import paddle
        from paddle_repro import register_attention

        @register_attention("user_gate")
        def user_gate(channels, hw):
            return paddle.nn.Identity()
        """))
    path = _tiny_config(user_folder, "custom_imports: [user_gate]\n",
                        "Arch: {name: resnet18, num_classes: 4, attention: user_gate}")
    cfg = load_config(path)
    assert list(cfg)[0] == "custom_imports" and cfg["custom_imports"] == ["user_gate"]
    assert "user_gate" in ATTENTIONS and str(user_folder) in sys.path
    assert build_model_from_config(cfg)(paddle.zeros([1, 3, 32, 32])).shape == [1, 4]


def test_custom_imports_can_be_given_as_an_override(user_folder):
    (user_folder / "user_marker.py").write_text("IMPORTED = True\n")
    cfg = load_config(_tiny_config(user_folder), ["custom_imports=[user_marker]"])
    assert cfg["custom_imports"] == ["user_marker"] and sys.modules["user_marker"].IMPORTED


def test_a_config_without_custom_imports_resolves_without_the_key(tmp_path):
    cfg = load_config(_tiny_config(tmp_path))
    assert "custom_imports" not in cfg
    assert load_config(_tiny_config(tmp_path, "custom_imports: []\n")) == cfg


def test_a_run_folder_config_rebuilds_with_its_imports(user_folder):
    """config.yaml as the report and inference code read it (yaml, not load_config)."""
    (user_folder / "user_net.py").write_text(textwrap.dedent("""
        import paddle
        from paddle_repro import register_model

        @register_model("user_net")
        def user_net(num_classes=10):
            return paddle.nn.Sequential(paddle.nn.Flatten(), paddle.nn.Linear(12, num_classes))
        """))
    raw = yaml.safe_load("custom_imports: [user_net]\nArch: {name: user_net, num_classes: 3}\n")
    assert "user_net" not in MODELS
    assert build_model_from_config(raw)(paddle.zeros([2, 3, 2, 2])).shape == [2, 3]


@pytest.mark.parametrize("source, match", [
    (None, r"cannot import `user_missing` \(ModuleNotFoundError: No module named 'user_missing'\)"
           r".*PYTHONPATH or the working directory"),
    ("import paddle\nundefined_name + 1\n", r"cannot import `user_missing` \(NameError: name "
                                            r"'undefined_name' is not defined \(.*user_missing.py:2\)\)"),
    ("def broken(:\n", r"cannot import `user_missing` \(SyntaxError: .*user_missing.py:1\)"),
])
def test_a_module_that_cannot_be_imported_is_a_config_error_naming_it(user_folder, source, match):
    if source is not None:
        (user_folder / "user_missing.py").write_text(source)
    path = _tiny_config(user_folder, "custom_imports: [user_missing]\n")
    with pytest.raises(ConfigError, match=r"config error at `custom_imports` \(from .*cfg.yaml\): " + match):
        load_config(path)


def test_custom_imports_must_be_a_list_of_names(tmp_path):
    with pytest.raises(ConfigError, match=r"`custom_imports`.*expected a list of module names.*got str"):
        load_config(_tiny_config(tmp_path, "custom_imports: se_attention\n"))
    with pytest.raises(ConfigError, match="unknown section `custom_import`.*did you mean `custom_imports`"):
        load_config(_tiny_config(tmp_path, "custom_import: [x]\n"))


# ----- processes ---------------------------------------------------------------------------------
def test_importing_the_package_does_not_import_paddle():
    """The decorators load lazily: report/-only processes never pay for paddle."""
    code = ("import sys, paddle_repro; assert 'paddle' not in sys.modules; "
            "assert callable(paddle_repro.register_model); assert 'paddle' in sys.modules")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=package_root()))
    assert done.returncode == 0, done.stderr[-2000:]
    assert set(paddle_repro.__all__) <= set(dir(paddle_repro))


def test_training_processes_get_the_working_directory_and_pythonpath(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "mine"))
    assert worker_pythonpath().split(os.pathsep) == [package_root(), str(tmp_path / "mine")]
    log = tmp_path / "attempt.log"
    code = run_attempt([sys.executable, "-c", "import os; print('cwd=' + os.getcwd())"], str(log),
                       cwd=str(tmp_path))
    assert code == 0 and f"cwd={tmp_path}" in log.read_text()
    run_attempt([sys.executable, "-c", "print('ran')"], str(log), cwd=str(tmp_path / "absent"))
    assert log.read_text().rstrip().endswith("ran")  # a path this node lacks: started where it is


def test_the_nam_builders_are_the_plain_ones_with_attention_nam():
    """docs/models.md: the ``nam_*`` keys are NAM's options of the generic slot."""
    paddle.seed(3)
    nam = build_model("resnet18_nam", num_classes=5, nam_lambda=1e-4, nam_spatial=True, image_size=16)
    paddle.seed(3)
    plain = build_model("resnet18", num_classes=5, attention="nam", image_size=16,
                        attention_options={"sparsity": 1e-4, "spatial": True, "impl": "fast"})
    a, b = nam.state_dict(), plain.state_dict()
    assert list(a) == list(b)
    for key in a:
        np.testing.assert_array_equal(a[key].numpy(), b[key].numpy(), err_msg=key)
    assert float(nam.regularization_loss()) == float(plain.regularization_loss())
