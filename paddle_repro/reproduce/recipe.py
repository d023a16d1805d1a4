"""When two resolved configs give the same run: ``recipe_hash`` and ``config_diff``.

Keys that cannot change a run's numbers are ignored: ``Global.output_dir``,
``Global.resume``, ``Global.progress_bar``, ``Global.overwrite``, the loaders'
``num_workers``, and ``data_file`` when both paths hold the same bytes.
"""
import hashlib
import json

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
    """sha256[:12] of the resolved config without output_dir / resume / progress_bar."""
    text = json.dumps(_comparable(cfg), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _flatten(d, prefix=""):
    if isinstance(d, dict):
        out = {}
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: d}


def config_diff(a, b):
    """Dotted keys whose values differ between two configs (volatile keys ignored)."""
    fa, fb = _flatten(_comparable(a)), _flatten(_comparable(b))
    return sorted(k for k in set(fa) | set(fb) if fa.get(k, "<absent>") != fb.get(k, "<absent>"))
