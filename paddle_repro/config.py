"""Load, override, validate and dump run configs (PaddleClas-style YAML sections).

Not a paper module. ``load_config(path, overrides)``:

1. reads the YAML (``_base_: other.yaml`` at the top level is loaded first, relative to
   the including file, and deep-merged: mappings merge key by key, anything else --
   lists included -- is replaced);
2. applies ``Section.key=value`` overrides, values parsed as YAML (never ``eval``); list
   indices are path parts (``DataLoader.Train.transforms.0.Resize.size=[64,64]``);
3. imports the modules of the top-level ``custom_imports: [module, ...]`` (the user's own
   models, attentions, transforms...; ``custom_imports.py``), so the names they register are
   valid in what follows; the key stays in the resolved config only when it lists modules;
4. validates against ``config_schema.SCHEMA`` -- unknown keys, wrong types, bad choices and
   missing required keys are ``ConfigError``s naming the key path, the file it came from
   and the closest valid key -- fills defaults and checks transform entries against the
   transform registry.

YAML is read with PyYAML's safe loader plus YAML 1.2 floats, so ``1e-5`` is a float (YAML
1.1, PyYAML's default, reads it as the string "1e-5").
"""
import copy
import hashlib
import json
import logging
import os
import re

import yaml

from .config_fields import Choice
from .config_schema import OPEN_SECTIONS, REQUIRED, SCHEMA
from .custom_imports import import_custom_modules
from .data.errors import TransformConfigError
from .data.loader import validate_transforms, worker_limit
from .host import available_cpus
from .errors import ConfigError
from .suggest import did_you_mean


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads ``1e-5`` / ``2E3`` as floats (YAML 1.2)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"))


def _mapping_without_duplicates(loader, node, deep=False):
    """A YAML mapping; a key given twice (``Arch:`` twice) is an error, not "the last one wins"."""
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, "duplicate key `%s` (first at line %d)" % (key, seen[key] + 1),
                key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)

CUSTOM_IMPORTS = "custom_imports"  # the one top-level key that is not a section
log = logging.getLogger("paddle_repro")


def _yaml_value(text):
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader


def _did_you_mean(key, candidates):
    return did_you_mean(key, candidates, cutoff=0.5)  # config keys: a looser match than names


def _read_yaml(path):
    if not os.path.isfile(path):
        raise ConfigError("config file %s does not exist." % path)
    try:
        with open(path, encoding="utf-8") as f:
            data = _yaml_value(f)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = " line %d, column %d" % (mark.line + 1, mark.column + 1) if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise ConfigError("YAML syntax error in %s%s: %s" % (path, where, problem))
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("%s must hold a mapping of sections (Global, Arch, ...), got %s."
                          % (path, type(data).__name__))
    return data


def _deep_merge(base, top):
    out = copy.deepcopy(base)
    for k, v in top.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


class _Origins(dict):
    """``{key path: file or override}`` plus ``layers``: every source in load order (a
    ``_base_`` before the file that includes it, files before overrides)."""

    def __init__(self):
        super().__init__()
        self.layers = []


def _layer(origins, source):
    """Load-order rank of ``source`` (None when unknown: origins given as a plain dict)."""
    layers = getattr(origins, "layers", None)
    return layers.index(source) if layers is not None and source in layers else None


def _record(origins, data, source, prefix=()):
    """Remember which file (or override) each key path came from, for error messages."""
    if hasattr(origins, "layers") and source not in origins.layers:
        origins.layers.append(source)
    for k, v in data.items():
        origins[prefix + (k,)] = source
        if isinstance(v, dict):
            _record(origins, v, source, prefix + (k,))


def _load_tree(path, origins, seen=()):
    path = os.path.abspath(path)
    if path in seen:
        raise ConfigError("`_base_` cycle: %s includes itself via %s." % (path, list(seen)))
    data = _read_yaml(path)
    base = data.pop("_base_", None)
    if base is None:
        _record(origins, data, path)
        return data
    if not isinstance(base, str):
        raise ConfigError("%s: `_base_` must be a file name (str), got %r." % (path, base))
    base_path = os.path.join(os.path.dirname(path), base)
    base_data = _load_tree(base_path, origins, seen + (path,))
    _record(origins, data, path)
    return _deep_merge(base_data, data)


def _schema_at(parts):
    """The schema node (dict section, Field, or None if unknown/open) at a key path."""
    node = SCHEMA
    for p in parts:
        if isinstance(node, Choice):
            node = node.all_keys()  # before `name` is known, any entry's key may be named
        if not isinstance(node, dict) or p not in node:
            return None
        node = node[p]
    return node.all_keys() if isinstance(node, Choice) else node


def _is_open(parts):
    """True inside an open section (Arch kwargs) or inside a list (transform entries)."""
    return any(tuple(parts[:i]) in OPEN_SECTIONS for i in range(1, len(parts) + 1))


def apply_override(cfg, text, origins=None):
    """Apply one ``Section.key=value`` override in place (see module docstring)."""
    where = "override `-o %s`" % text
    if not isinstance(text, str) or "=" not in text:
        raise ConfigError("%s: expected `Section.key=value` (e.g. Global.epochs=2)." % where)
    key, value_text = text.split("=", 1)
    parts = key.strip().split(".")
    if not key.strip() or any(not p.strip() for p in parts):
        raise ConfigError("%s: empty key path; expected `Section.key=value` "
                          "(e.g. DataLoader.Train.batch_size=64)." % where)
    parts = [p.strip() for p in parts]
    try:
        value = _yaml_value(value_text)
    except yaml.YAMLError as e:
        raise ConfigError("%s: the value is not valid YAML (%s)." % (where, e))
    node, in_list, done, parent_list = cfg, False, [], False
    for i, p in enumerate(parts):
        last = i == len(parts) - 1
        was_list, parent_list = parent_list, isinstance(node, list)
        if isinstance(node, list):
            if not re.fullmatch(r"-?\d+", p) or not -len(node) <= int(p) < len(node):
                raise ConfigError("%s: `%s` is a list of %d items; `%s` is not a valid index."
                                  % (where, ".".join(done), len(node), p))
            p, in_list = int(p), True
        elif isinstance(node, dict):
            # a list item (transform entry) keeps its name; deeper keys (kwargs) are open
            known = p in node or isinstance(_schema_at(done + [p]), (dict, tuple)) \
                or (in_list and not was_list) or _is_open(done + [p]) \
                or (not done and p == CUSTOM_IMPORTS)
            if not known:
                schema_node = _schema_at(done) if done else SCHEMA
                valid = set(node) | (set(schema_node) if isinstance(schema_node, dict) else set())
                raise ConfigError("%s: unknown key `%s`%s. Valid keys under `%s`: %s"
                                  % (where, ".".join(done + [p]), _did_you_mean(p, valid),
                                     ".".join(done) or "<top>", ", ".join(sorted(map(str, valid)))))
            if not last and node.get(p) is None:
                node[p] = {}  # also `{ToTensor: null}` -> `{ToTensor: {kwarg: ...}}`
        else:
            raise ConfigError("%s: `%s` is a %s, not a section or list."
                              % (where, ".".join(map(str, done)), type(node).__name__))
        if last:
            node[p] = value
        else:
            node = node[p]
        done.append(p if isinstance(p, str) else str(p))
    if origins is not None:
        if hasattr(origins, "layers") and where not in origins.layers:
            origins.layers.append(where)
        origins[tuple(parts)] = where
        if isinstance(value, dict):
            _record(origins, value, where, tuple(parts))


def _origin(origins, path, default):
    for i in range(len(path), 0, -1):
        if tuple(path[:i]) in origins:
            return origins[tuple(path[:i])]
    return default


def _type_ok(value, types):
    if isinstance(value, bool):
        return bool in types
    if isinstance(value, int) and float in types:
        return True
    return isinstance(value, types)


def _type_names(types):
    return " or ".join("null" if t is type(None) else t.__name__ for t in types)


def _fail_at(origins, default_file):
    def fail(key_path, msg):
        src = _origin(origins, key_path, default_file)
        raise ConfigError("config error at `%s` (from %s): %s" % (".".join(key_path), src, msg))
    return fail


def _validate(section, schema, path, origins, default_file, dropped):
    """``section`` checked against ``schema`` (a dict of Fields and sections, or a Choice),
    defaults filled; keys of builders the config did not choose are appended to ``dropped``."""
    fail = _fail_at(origins, default_file)
    if isinstance(schema, Choice):
        return _validate_choice(section, schema, path, origins, default_file, dropped)
    if section is None:
        section = {}
    if not isinstance(section, dict):
        fail(path, "must be a mapping of keys, got %s %r." % (type(section).__name__, section))
    out, extras = {}, {}
    open_section = tuple(path) in OPEN_SECTIONS
    for key, value in section.items():
        if key not in schema:
            if open_section:
                extras[key] = copy.deepcopy(value)
                continue
            fail(path + [key], "unknown key `%s`%s. Valid keys%s: %s"
                 % (key, _did_you_mean(key, schema), " in " + ".".join(path) if path else "",
                    ", ".join(schema)))
    for key, spec in schema.items():
        kp = path + [key]
        if isinstance(spec, (dict, Choice)):
            out[key] = _validate(section.get(key), spec, kp, origins, default_file, dropped)
            continue
        if key not in section:
            if spec.default is REQUIRED:
                fail(kp, "required key `%s` is missing (%s)." % (key, spec.doc))
            out[key] = copy.deepcopy(spec.default)
            continue
        value = section[key]
        if not _type_ok(value, spec.types):
            fail(kp, "expected %s, got %s %r." % (_type_names(spec.types), type(value).__name__, value))
        if spec.choices is not None and value not in spec.choices:
            fail(kp, "`%s` is not one of %s%s." % (value, list(spec.choices),
                                                   _did_you_mean(value, [c for c in spec.choices if c])))
        out[key] = copy.deepcopy(value)
    out.update(extras)  # schema keys first, then the open section's kwargs
    return out


def _validate_choice(section, choice, path, origins, default_file, dropped):
    """A section whose keys depend on its ``name``: ``name`` + common keys + the chosen
    entry's keys. A key that only other entries read (a config written before sections were
    per builder, which listed every schedule's keys) is dropped and reported in ``dropped``."""
    fail = _fail_at(origins, default_file)
    if section is None:
        section = {}
    if not isinstance(section, dict):
        fail(path, "must be a mapping of keys, got %s %r." % (type(section).__name__, section))
    name = section.get("name", choice.default)
    if name is REQUIRED:
        fail(path + ["name"], "required key `name` is missing (%s)." % choice.name_field().doc)
    if not isinstance(name, str) or name not in choice.entries:
        fail(path + ["name"], "`%s` is not one of %s%s." % (name, list(choice.entries),
                                                          _did_you_mean(str(name), choice.entries)))
    keys, every_key = choice.keys_of(name), choice.all_keys()
    foreign = [k for k in section if k not in keys and k in every_key]
    # A key set in an earlier layer than the one that chose `name` (a _base_ file's Adam
    # betas under a child's `name: momentum`, -o Optimizer.lr.name=cosine on a plateau
    # config) is a switch of builder: dropped without a word. One the same or a later layer
    # set beside it is a setting that does nothing: reported.
    name_layer = _layer(origins, origins.get(tuple(path + ["name"])))
    for k in foreign:
        src = _origin(origins, path + [k], default_file)
        key_layer = _layer(origins, src)
        if name_layer is None or key_layer is None or key_layer >= name_layer:
            dropped.append((".".join(path + [k]), choice.owners(k), name, src))
    kept = {k: v for k, v in section.items() if k not in foreign}
    out = _validate(kept, keys, path, origins, default_file, dropped)
    for key, msg in choice.check(out) + choice.entries[name].check(out):
        fail(path + [key], msg)
    return out


def _warn_dropped(dropped):
    """One line for a config that still names keys of builders it did not choose."""
    if not dropped:
        return
    keys = "; ".join("%s (from %s) is read by %s=%s only, not by the chosen %s"
                     % (key, src, key.rsplit(".", 1)[0] + ".name", "|".join(owners), chosen)
                     for key, owners, chosen, src in dropped)
    log.warning("config: ignored %s. A section holds `name` plus the keys of the builder it "
                "names (docs/config.md); remove the key to silence this.", keys)


def _validate_transforms(cfg, origins, default_file):
    """Each split's transform list against that split's ``pipeline`` (the transform table)."""
    for split in ("Train", "Eval"):
        path = ["DataLoader", split, "transforms"]
        pipeline = cfg["DataLoader"][split]["pipeline"]
        try:
            validate_transforms(cfg["DataLoader"][split]["transforms"], pipeline, ".".join(path))
        except TransformConfigError as e:
            sources = [_origin(origins, path, default_file)]
            sources += [v for k, v in origins.items() if k[:3] == tuple(path) and v not in sources]
            if pipeline != "paddle":  # the list may be fine, the pipeline not: name its origin
                src = _origin(origins, ["DataLoader", split, "pipeline"], default_file)
                sources += [src] if src not in sources else []
            raise ConfigError("config error (from %s): %s" % (" and ".join(sources), e))


def _check_ranges(cfg, fail):
    """Values of the right type that still cannot work (each an error naming its key)."""
    g = cfg["Global"]
    for key in ("epochs", "log_interval", "eval_interval", "save_interval"):
        if g[key] < 1:
            fail(["Global", key], f"must be >= 1, got {g[key]}.")
    topk = cfg["Metric"]["topk"]
    if topk not in ([1], [1, 5]):
        fail(["Metric", "topk"], f"supported: [1, 5] (reported as val_top1 / val_top5) or [1]; got "
             f"{topk}.")
    for split in ("Train", "Eval"):
        s = cfg["DataLoader"][split]
        if s["batch_size"] < 1:
            fail(["DataLoader", split, "batch_size"], f"must be >= 1, got {s['batch_size']}.")
        if s["num_workers"] < 0:
            fail(["DataLoader", split, "num_workers"], f"must be >= 0, got {s['num_workers']}.")
        if s["num_workers"] > worker_limit():
            fail(["DataLoader", split, "num_workers"], f"{s['num_workers']} workers is more than this "
                 f"machine can use: it has {available_cpus()} CPUs available, and more than "
                 f"max(8, 4 per CPU) = {worker_limit()} workers only costs memory and start-up time "
                 f"(each is a process). Use 0 to {worker_limit()} (0 loads in the training process).")
        if s["num_samples"] is not None and s["num_samples"] < 1:
            fail(["DataLoader", split, "num_samples"], f"must be >= 1 or null (all), got "
                 f"{s['num_samples']}.")


def _validate_combinations(cfg, origins, default_file):
    """Keys that are valid alone but not together."""
    def fail(path, msg):
        raise ConfigError("config error at `%s` (from %s): %s"
                          % (".".join(path), _origin(origins, path, default_file), msg))

    metric, g = cfg["Metric"], cfg["Global"]
    _check_ranges(cfg, fail)
    decay = cfg["EMA"]["decay"]
    if decay is not None and not 0.0 <= decay < 1.0:
        fail(["EMA", "decay"], f"must be in [0, 1) (e.g. 0.9998), got {decay}.")
    if metric["best_by"] == "val_top1_ema" and decay is None:
        fail(["Metric", "best_by"], "`val_top1_ema` needs EMA.decay (the EMA is off).")
    if g["update_freq"] < 1:
        fail(["Global", "update_freq"], f"must be >= 1 (1 = no accumulation), got {g['update_freq']}.")
    if metric["best_by"].endswith("_nb") and not metric["notebook_val"]:
        fail(["Metric", "best_by"], "`%s` needs Metric.notebook_val (the notebook's metric "
             "definition); set it or use best_by: val_top1." % metric["best_by"])
    for split in ("Train", "Eval"):
        if (cfg["DataLoader"][split]["sampler"] == "distributed"
                and cfg["DataLoader"][split]["pipeline"] == "batched"):
            fail(["DataLoader", split, "sampler"], "the batched pipeline draws its own shuffle "
                 "order from (Global.seed, epoch); sampler: distributed needs pipeline: paddle.")
    if cfg["DataLoader"]["dataset"]["image_backend"] == "pil":
        for split in ("Train", "Eval"):
            if cfg["DataLoader"][split]["pipeline"] == "batched":
                fail(["DataLoader", split, "pipeline"], "the batched pipeline works on cv2 arrays; "
                     "with DataLoader.dataset.image_backend: pil use pipeline: paddle.")


def _custom_imports(raw, origins, source):
    """Imports the config's ``custom_imports``; returns them (None when absent or empty)."""
    names = raw.get(CUSTOM_IMPORTS)
    where = "config error at `%s` (from %s)" % (CUSTOM_IMPORTS,
                                                _origin(origins, [CUSTOM_IMPORTS], source))
    if names is not None and not isinstance(names, list):
        raise ConfigError("%s: expected a list of module names (e.g. [my_attention]), got %s %r."
                          % (where, type(names).__name__, names))
    import_custom_modules(names, where)
    return [n.strip() for n in names] if names else None


def validate_config(raw, source="<dict>", origins=None, quiet=False):
    """Import the config's ``custom_imports``, validate the rest against the schema and fill
    defaults (returns a copy). Keys of builders the config does not choose are dropped, with
    one warning line unless ``quiet`` (a saved config read back, ``with_defaults``)."""
    origins = origins if origins is not None else {}
    if not isinstance(raw, dict):
        raise ConfigError("%s: a config must be a mapping of sections, got %r." % (source, raw))
    imports = _custom_imports(raw, origins, source)
    sections = {k: v for k, v in raw.items() if k != CUSTOM_IMPORTS}
    unknown = [k for k in sections if k not in SCHEMA]
    if unknown:
        k = unknown[0]
        valid = [CUSTOM_IMPORTS, *SCHEMA]
        raise ConfigError("config error at `%s` (from %s): unknown section `%s`%s. Valid "
                          "top-level keys: %s" % (k, _origin(origins, [k], source), k,
                                                  _did_you_mean(k, valid), ", ".join(valid)))
    dropped = []
    cfg = _validate(sections, SCHEMA, [], origins, source, dropped)
    if not quiet:
        _warn_dropped(dropped)
    _validate_transforms(cfg, origins, source)
    _validate_combinations(cfg, origins, source)
    # absent = none: a config without modules resolves exactly as before the key existed
    return {CUSTOM_IMPORTS: imports, **cfg} if imports else cfg


def load_config(path, overrides=()):
    """Load a YAML config, apply overrides, validate and fill defaults.

    Args:
        path: YAML file (may name a ``_base_`` file).
        overrides: iterable of ``"Section.key=value"`` strings, applied in order.

    Returns:
        dict: the resolved config (plain dicts/lists/scalars).

    Raises:
        ConfigError: missing file, YAML syntax error (with line), bad override, unknown or
            misspelled key (with did-you-mean), wrong type, bad choice, missing required key,
            bad transform entry.
    """
    path = os.path.abspath(os.fspath(path))
    origins = _Origins()
    raw = _load_tree(path, origins)
    if isinstance(overrides, str):
        overrides = [overrides]
    for text in overrides or ():
        apply_override(raw, text, origins)
    return validate_config(raw, path, origins)


def dump_config(cfg, path):
    """Write the resolved config as YAML (parent folders created); returns the path."""
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(cfg, f, sort_keys=False, default_flow_style=None, allow_unicode=True)
    return path


ABSENT = "(absent)"  # the value of a key one of two configs does not have

# Keys that cannot change a run's recipe: where its files go, whether it may replace or
# resume a folder, how it shows progress, how many processes load its data (with random
# augmentations the worker count changes which random numbers an image draws -- loader.py
# seeds per worker -- not their distribution). The one list that reproduce's finished-run
# check ignores and that a resume may always change (engine/resume_check.py adds the keys a
# resume honours on purpose, such as Global.epochs).
RECIPE_NEUTRAL_KEYS = ("Global.output_dir", "Global.resume", "Global.overwrite",
                       "Global.progress_bar", "DataLoader.Train.num_workers",
                       "DataLoader.Eval.num_workers")


def with_defaults(cfg, source="<saved config>"):
    """A resolved config written by this or an older version, read as today's loader would:
    every key it lacks gets today's default ("absent = default").

    So a key added to the schema after a run was written (``Global.update_freq``, the EMA
    keys, ...) compares equal to its default, not as a difference: upgrading the suite does
    not make old runs refuse to resume or count as another recipe. The keys older versions
    wrote for builders the run did not choose (every schedule's keys in ``Optimizer.lr``) are
    dropped, as today's loader drops them. A config today's schema cannot read (a key since
    removed) is returned as written, so the difference still shows.
    """
    try:
        return validate_config(copy.deepcopy(cfg), source, quiet=True)
    except ConfigError:
        return cfg


def flatten_config(cfg, prefix=""):
    """``{"Section.key": value}`` of a nested config (lists, e.g. transforms, are values)."""
    flat = {}
    for key, value in cfg.items():
        if isinstance(value, dict):
            flat.update(flatten_config(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def config_changes(a, b):
    """``[(dotted key, value in a, value in b)]`` for every key whose value differs, sorted;
    a key only one config has shows ``ABSENT`` on the other side."""
    fa, fb = flatten_config(a), flatten_config(b)
    return [(k, fa.get(k, ABSENT), fb.get(k, ABSENT)) for k in sorted(set(fa) | set(fb))
            if fa.get(k, ABSENT) != fb.get(k, ABSENT)]


def config_hash(cfg):
    """sha256[:12] of the canonical JSON of a resolved config (key order irrelevant)."""
    blob = json.dumps(cfg, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]
