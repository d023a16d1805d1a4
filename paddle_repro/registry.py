"""``Registry``: the name -> entry table of one pluggable slot, and who defined each entry.

Not a paper module. Every place a config names an implementation is a registry: ``Arch.name``
(``models.MODELS``), ResNet's ``Arch.attention`` (``models.resnet.ATTENTIONS``), AlexNet's
``Arch.conv`` (``models.alexnet.CONVS``), ``Arch.init`` (``models.init.INITS``), the transform
names (``data.transform_table.TABLE``) and the FLOPs rules of custom layers
(``models.summary.CUSTOM_FLOPS``, keyed by layer class). The package fills them with its
built-in entries; a user's module fills them through the public decorators
(``paddle_repro.plugins``), imported by a config's ``custom_imports``.

A ``Registry`` is a ``dict`` (reading code is unchanged) that also remembers where each entry
was defined (``module:qualname``), so that

* a name registered twice is an error naming both definitions, raised at registration,
  instead of the later import silently replacing the earlier one (registering the very same
  definition again, e.g. after ``importlib.reload``, replaces it);
* code that must only see the package's own entries (tests, docs tables) asks ``builtin()``.
"""
from .errors import UserError

PACKAGE = __name__.split(".")[0]


class DuplicateNameError(UserError, ValueError):
    """A name registered twice in one slot; the message names both definitions."""


class RegistrationError(UserError, TypeError):
    """An entry that does not fit its slot's contract (not callable, wrong arguments)."""


def definition_of(obj):
    """``"module:qualname"`` of a function or class; other objects (a ``functools.partial``)
    are told apart by identity, as two of them share their type's name."""
    if hasattr(obj, "__qualname__"):
        return f"{getattr(obj, '__module__', '?')}:{obj.__qualname__}"
    return f"{type(obj).__module__}:{type(obj).__qualname__} object at {id(obj):#x}"


class Registry(dict):
    """The entries of one slot: ``name -> entry``, plus each entry's definition.

    Args:
        slot: what an entry is, for messages (``"model"``, ``"attention"``, ...).
        entries: the built-in entries, ``{name: entry}``, registered in order.
        define: ``entry -> "module:qualname"`` of its definition (default ``definition_of``;
            the transform table passes one that reads a row's standard builder).
    """

    def __init__(self, slot, entries=None, define=definition_of):
        super().__init__()
        self.slot = slot
        self._define = define
        for name, entry in (entries or {}).items():
            self.add(name, entry)

    def add(self, name, entry):
        """Registers ``entry`` under ``name``; returns ``entry``.

        Raises:
            DuplicateNameError: ``name`` is taken by another definition.
        """
        where = self._define(entry)
        if name in self and self.definition(name) != where:
            raise DuplicateNameError(
                f"{self.slot} {name!r} is registered twice: by {self.definition(name)} and by "
                f"{where}. Give one of them another name (names are global: every config "
                f"that says {name!r} must mean one thing).")
        self[name] = entry
        return entry

    def definition(self, name):
        """``"module:qualname"`` of the entry registered under ``name``."""
        return self._define(self[name])

    def builtin(self):
        """The names the package itself registered, in registration order."""
        return [n for n in self if self.definition(n).startswith(PACKAGE + ".")]
