"""Errors a user can cause when naming or configuring a model, and the one argument check."""
from ..errors import UserError
from ..suggest import closest


class ModelArgumentError(UserError, TypeError):
    """An ``Arch`` keyword argument the builder does not accept; the message names it,
    the closest accepted one, and every accepted one. A ``TypeError`` so callers that
    catch the builtin keep working."""


def check_arguments(model, given, accepted):
    """Raises ``ModelArgumentError`` naming every key of ``given`` not in ``accepted``.

    Args:
        model: the builder's registry name (e.g. ``"alexnet"``), for the message.
        given: the keyword arguments asked for (``Arch``'s keys).
        accepted: the names the builder takes.
    """
    unknown = [k for k in given if k not in accepted]
    if not unknown:
        return
    hints = []
    for k in unknown:
        match = closest(k, accepted)
        hints.append(f"{k!r}" + (f" (did you mean {match!r}?)" if match else ""))
    raise ModelArgumentError(f"{model}: unknown argument(s) {', '.join(hints)}; valid: "
                             f"{', '.join(accepted)} (put them under Arch: in the config).")
