"""The model registry: ``MODELS`` (name -> builder) and ``build_model(name, **kwargs)``.

Every builder takes ``num_classes`` plus its own keyword arguments; the ``Arch`` section of a
config is ``name`` + exactly those keyword arguments, checked here against the builder's
signature so a typo is an error naming the key instead of a silent default.
"""
import difflib
import inspect

from .alexnet import alexnet, alexnet_acmix, alexnet_bn, alexnet_condconv

MODELS = {
    "alexnet": alexnet,
    "alexnet_bn": alexnet_bn,
    "alexnet_condconv": alexnet_condconv,
    "alexnet_acmix": alexnet_acmix,
}


def _accepted_kwargs(builder):
    """Names of the keyword arguments ``builder`` accepts (``**kwargs`` excluded)."""
    params = inspect.signature(builder).parameters.values()
    return [p.name for p in params
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def build_model(name, **kwargs):
    """Builds a registered model.

    Args:
        name: registry key, e.g. ``"resnet50_nam"`` (see ``MODELS``).
        **kwargs: builder keyword arguments, e.g. ``num_classes=100``.

    Returns:
        The ``paddle.nn.Layer``.

    Raises:
        KeyError: ``name`` is not registered (the message lists the valid names).
        TypeError: a keyword argument is not accepted by that builder.
    """
    if name not in MODELS:
        close = difflib.get_close_matches(str(name), MODELS, n=3)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise KeyError(f"Unknown model {name!r}.{hint} Valid names: {', '.join(sorted(MODELS))}.")
    builder = MODELS[name]
    accepted = _accepted_kwargs(builder)
    has_var_kw = any(p.kind == p.VAR_KEYWORD
                     for p in inspect.signature(builder).parameters.values())
    unknown = [k for k in kwargs if k not in accepted]
    if unknown and not has_var_kw:
        hints = []
        for k in unknown:
            close = difflib.get_close_matches(k, accepted, n=1)
            hints.append(f"{k!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise TypeError(f"Model {name!r} does not accept argument(s) {', '.join(hints)}. "
                        f"Accepted: {', '.join(accepted)} (put them under Arch: in the config).")
    return builder(**kwargs)


__all__ = ["MODELS", "build_model"]
