"""One "did you mean" for every error that names a choice (config keys, models, transforms...).

``closest`` is difflib's nearest spelling; ``did_you_mean`` formats it for a message;
``check_choice`` raises when a value is not one of a fixed set, listing the set.
"""
import difflib


def closest(name, valid, cutoff=0.6):
    """The entry of ``valid`` spelled most like ``name`` (None when nothing is close)."""
    close = difflib.get_close_matches(str(name), [str(v) for v in valid], n=1, cutoff=cutoff)
    return close[0] if close else None


def did_you_mean(name, valid, cutoff=0.6):
    """`` (did you mean `x`?)`` for the closest entry of ``valid``, or ``""``."""
    match = closest(name, valid, cutoff)
    return f" (did you mean `{match}`?)" if match is not None else ""


def check_choice(what, value, valid, error=ValueError):
    """Raises ``error`` unless ``value`` is one of ``valid``; the message lists them."""
    if value not in valid:
        raise error(f"{what} must be one of {list(valid)}, got {value!r}"
                    f"{did_you_mean(value, [v for v in valid if v is not None])}.")
