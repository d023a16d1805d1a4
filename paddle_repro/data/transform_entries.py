"""Reading a config transform list, for both pipelines: parse, argument check, list shape.

Not a paper module. A list entry is ``{Name: {kwargs}}``, ``{Name: null}`` or ``"Name"``;
names, keyword arguments and kinds come from the one table (``transform_table.py``).
``pipeline: paddle`` (``transforms.build_transforms``) and ``pipeline: batched``
(``batched/compiler.py``) both go through ``build_entry`` and ``check_list`` here, each
raising its own error class (``TransformConfigError``, or its subclass
``BatchedPipelineError``), so the two cannot drift apart again.
"""
import inspect

from ..suggest import did_you_mean
from .errors import TransformConfigError
from .transform_table import IMAGE, NORMALIZE, TABLE, TO_CHW, implementation, names

TAIL_HINT = "ToTensor or ToArray, then optionally Normalize"


def parse_entry(entry, pipeline="paddle", where="transform", error=TransformConfigError):
    """One list entry -> ``(name, kwargs)``, a fresh kwargs dict.

    Raises ``error`` for a malformed entry, a name not in the table (with "did you mean" and
    the valid names), a name ``pipeline`` has no implementation of, or non-mapping kwargs.
    """
    if isinstance(entry, str):
        entry = {entry: None}
    if not isinstance(entry, dict) or len(entry) != 1:
        raise error("%s: a transform must be a single-key mapping like `{RandomCrop: {size: 32}}` "
                    "or `{ToTensor: null}`, got %r" % (where, entry))
    (name, kwargs), = entry.items()
    if name not in TABLE:
        valid = names(pipeline)
        raise error("%s: unknown transform `%s`%s; valid transforms: %s"
                    % (where, name, did_you_mean(name, valid), ", ".join(valid)))
    if implementation(name, pipeline) is None:
        raise error("%s: `%s` is not supported by pipeline: %s (it has no %s implementation); "
                    "use pipeline: paddle for it. Supported by pipeline: %s: %s"
                    % (where, name, pipeline, pipeline, pipeline, ", ".join(names(pipeline))))
    if kwargs is None:
        kwargs = {}
    if not isinstance(kwargs, dict):
        raise error("%s: arguments of `%s` must be a mapping of keyword arguments or null, got %r"
                    % (where, name, kwargs))
    return name, dict(kwargs)


def entry_names(entries):
    """Every transform name of a (validated) list, nested entries included, in order."""
    found = []
    for entry in entries or ():
        name, kwargs = next(iter(entry.items())) if isinstance(entry, dict) else (entry, None)
        found.append(name)
        row = TABLE.get(name)
        for key in (row.nested if row else ()):
            if isinstance(kwargs, dict) and key in kwargs:
                found += entry_names([kwargs[key]])
    return found


def check_kwargs(name, kwargs, where="transform", error=TransformConfigError):
    """The keyword arguments of ``name`` against its standard builder's signature (the
    arguments a config may give, on both pipelines): unknown, missing or too many -> ``error``."""
    sig = inspect.signature(TABLE[name].standard)
    valid = ", ".join(sig.parameters) or "none"
    unknown = [k for k in kwargs if k not in sig.parameters]
    if unknown:
        raise error("%s: bad arguments for `%s`: unexpected keyword `%s`%s; valid arguments: %s"
                    % (where, name, unknown[0], did_you_mean(unknown[0], sig.parameters), valid))
    try:
        sig.bind(**kwargs)
    except TypeError as e:
        raise error("%s: bad arguments for `%s` (%s); valid arguments: %s"
                    % (where, name, e, valid))


def build_entry(entry, pipeline="paddle", where="transform", error=TransformConfigError,
                kinds=None):
    """One entry -> the ``pipeline``'s transform object (nested entries built first).

    Args:
        entry: ``{Name: {kwargs}}``, ``{Name: null}`` or ``"Name"``.
        pipeline: ``"paddle"`` (a per-image callable) or ``"batched"`` (a batched op).
        where: config path for messages; error: the exception class to raise.
        kinds: allowed kinds (``transform_table.IMAGE`` ...); None: any.
    """
    name, kwargs = parse_entry(entry, pipeline, where, error)
    row = TABLE[name]
    if kinds is not None and row.kind not in kinds:
        raise error("%s: %s can only come at the end of the batched transform list (%s)"
                    % (where, name, TAIL_HINT))
    check_kwargs(name, kwargs, where, error)
    built = dict(kwargs)
    for key in row.nested:
        # a batched inner op runs on uint8 images, like the op that wraps it
        inner_kinds = (IMAGE,) if pipeline == "batched" else None
        built[key] = build_entry(kwargs[key], pipeline, "%s.%s.%s" % (where, name, key), error,
                                 inner_kinds)
    try:
        return implementation(name, pipeline)(**built)
    except TransformConfigError:
        raise
    except (TypeError, ValueError, AssertionError) as e:
        raise error("%s: invalid value for `%s` %r: %s"
                    % (where, name, kwargs, e or type(e).__name__)) from None


def check_list(entries, pipeline="paddle", where="transforms", error=TransformConfigError):
    """The shape of a whole list for ``pipeline``; returns its names.

    ``paddle``: it must contain ``ToTensor`` or ``ToArray`` (images must become CHW float32;
    callers turn an empty list into ``[ToTensor]``). ``batched``: image ops, then
    ``ToTensor`` or ``ToArray``, then optionally ``Normalize``, each name with a batched
    implementation (``parse_entry``).
    """
    if not isinstance(entries, (list, tuple)):
        raise error("%s must be a list of {Name: {kwargs}}, got %r" % (where, entries))
    found = [parse_entry(e, pipeline, "%s.%d" % (where, i), error)[0]
             for i, e in enumerate(entries)]
    kinds = [TABLE[n].kind for n in found]
    if pipeline == "paddle":
        if TO_CHW not in kinds:
            raise error("%s must contain ToTensor or ToArray (images must become CHW float32 "
                        "arrays); got %s. Add `- ToTensor: null` before Normalize."
                        % (where, found))
        return found
    cut = next((k for k, kind in enumerate(kinds) if kind != IMAGE), len(kinds))
    late = [n for n, kind in zip(found[cut:], kinds[cut:]) if kind == IMAGE]
    if late:
        raise error("%s: %s comes after ToTensor/ToArray; the batched pipeline runs image ops on "
                    "uint8 images, so they must come before (the end of the batched list is %s)"
                    % (where, late[0], TAIL_HINT))
    if kinds[cut:] not in ([TO_CHW], [TO_CHW, NORMALIZE]):
        raise error("%s: pipeline: batched needs the transform list to end with ToTensor or "
                    "ToArray, optionally followed by Normalize; got tail %s"
                    % (where, found[cut:] or "nothing"))
    return found
