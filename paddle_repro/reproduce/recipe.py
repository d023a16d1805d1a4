"""When two resolved configs give the same run: ``recipe_hash`` and ``config_diff``.

Keys that cannot change a run's numbers are ignored: ``Global.output_dir``,
``Global.resume``, ``Global.progress_bar``, ``Global.overwrite``, the loaders'
``num_workers``, and ``data_file`` when both paths hold the same bytes.
"""
import hashlib
import json

from paddle_repro.config import config_changes, config_hash

_VOLATILE = ("output_dir", "resume", "progress_bar", "overwrite")
_VOLATILE_SPLIT = ("num_workers",)  # DataLoader.Train/Eval keys that do not change numbers


def _file_digest(path):
    """sha256 of a data file (None if unreadable), so two paths to one archive compare equal."""
    try:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()
    except (OSError, TypeError):
        return None


def _comparable(cfg):
    cfg = json.loads(json.dumps(cfg, sort_keys=True, default=str))
    for key in _VOLATILE:
        cfg.get("Global", {}).pop(key, None)
    loaders = cfg.get("DataLoader", {})
    for split in ("Train", "Eval"):
        for key in _VOLATILE_SPLIT:
            loaders.get(split, {}).pop(key, None)
    dataset = loaders.get("dataset", {})
    if dataset.get("data_file"):
        digest = _file_digest(dataset["data_file"])
        if digest:  # the same bytes under another path is the same data
            dataset["data_file"] = "sha256:" + digest
    return cfg


def recipe_hash(cfg):
    """``config_hash`` of the resolved config without the keys that cannot change numbers."""
    return config_hash(_comparable(cfg))


def config_diff(a, b):
    """Dotted keys whose values differ between two configs (volatile keys ignored)."""
    return [key for key, _, _ in config_changes(_comparable(a), _comparable(b))]
