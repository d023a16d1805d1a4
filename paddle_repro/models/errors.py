"""Errors a user can cause when naming or configuring a model, and the checks that raise them."""
import inspect

from ..errors import UserError
from ..suggest import check_choice, closest


class ModelArgumentError(UserError, TypeError):
    """An ``Arch`` keyword argument the builder does not accept; the message names it,
    the closest accepted one, and every accepted one. A ``TypeError`` so callers that
    catch the builtin keep working."""


def check_arguments(model, given, accepted, section="Arch"):
    """Raises ``ModelArgumentError`` naming every key of ``given`` not in ``accepted``.

    Args:
        model: the builder's registry name (e.g. ``"alexnet"``), for the message.
        given: the keyword arguments asked for (``Arch``'s keys).
        accepted: the names the builder takes.
        section: where a config gives them.
    """
    unknown = [k for k in given if k not in accepted]
    if not unknown:
        return
    hints = []
    for k in unknown:
        match = closest(k, accepted)
        hints.append(f"{k!r}" + (f" (did you mean {match!r}?)" if match else ""))
    raise ModelArgumentError(f"{model}: unknown argument(s) {', '.join(hints)}; valid: "
                             f"{', '.join(accepted) or 'none'} (put them under {section}: in the config).")


def keyword_arguments(builder, skip=0):
    """Names ``builder`` takes by keyword after its first ``skip`` parameters, or None when it
    takes ``**kwargs`` (then it checks its arguments itself)."""
    params = list(inspect.signature(builder).parameters.values())[skip:]
    if any(p.kind == p.VAR_KEYWORD for p in params):
        return None
    return [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def check_options(what, builder, options, section, skip=0):
    """``options`` (a mapping or None) against ``builder``'s keyword arguments after its first
    ``skip`` (a slot's fixed ones, e.g. an attention's ``channels, hw``); raises
    ``ModelArgumentError`` naming a key it does not take.

    Args:
        what: the entry, for the message (``"attention 'se'"``).
        section: the config key that holds ``options`` (``"Arch.attention_options"``).
    """
    if options is None:
        return
    if not isinstance(options, dict):
        raise ModelArgumentError(f"{section} must be a mapping of keyword arguments of {what}, "
                                 f"got {type(options).__name__} {options!r}.")
    accepted = keyword_arguments(builder, skip)
    if accepted is not None:
        check_arguments(what, options, accepted, section)


class ModelChoiceError(UserError, ValueError):
    """An ``Arch`` value that is not one of its choices (a depth, a stem, a registered
    attention or conv); the message lists them."""


def check_registered(what, value, registry, decorator):
    """Raises ``ModelChoiceError`` unless ``value`` is None or a name of ``registry``; the
    message lists the names and how a user's module adds one."""
    if value is None or value in registry:
        return
    try:
        check_choice(what, value, [None, *registry], ModelChoiceError)
    except ModelChoiceError as err:
        raise ModelChoiceError(f"{err} A module of your own adds one with "
                               f"paddle_repro.{decorator} and is listed in the config's "
                               "custom_imports (docs/extending.md).") from None
