"""How a config key is declared: ``Field``, and ``Choice`` for a section whose keys depend
on its ``name``.

Not a paper module, and a leaf: it imports nothing of the package, so the builders that own
config keys (``builders/``, ``data/datasets.py``) declare them here without importing the
config layer, and ``config_schema`` assembles the schema from them (the import graph runs
config -> builders -> loop -> files -> report, never back).

A ``Field`` is ``Field(types, default, doc, choices=None)``. ``types`` is a tuple of Python
types a value may have (``type(None)`` means the key may be null; ``int`` is accepted where
``float`` is asked for). ``REQUIRED`` as a default means the key must be given.

A ``Choice`` is a section like ``Optimizer.lr``: ``name`` picks one entry of a registry, and
the section's keys are the ``common`` ones (``learning_rate``, ``by``, warm-up) plus the
chosen entry's own (``patience`` for ``plateau``, ``T_max`` for ``cosine``), each declared
next to the builder that reads it (an ``Entry``). A resolved config therefore shows the
keys of the builder that runs and no other's.
"""
from collections import namedtuple

Field = namedtuple("Field", ["types", "default", "doc", "choices"])
Field.__new__.__defaults__ = (None,)

REQUIRED = object()  # sentinel: the key has no default and must be given
NONE = type(None)
NUM = (int, float)


def _no_check(section):
    return []


class Entry:
    """One registry entry that owns config keys: what builds it, its keys, its range checks.

    Args:
        build: the builder (whatever the registry calls; the config layer never does).
        fields: ``{key: Field}`` this entry reads besides its section's common keys.
        check: ``section -> [(key, message), ...]``: values of the right type that still
            cannot work (``gamma`` outside (0, 1)); ``section`` is the validated section.
        doc: one line for docs/config.md.
    """

    def __init__(self, build, fields=None, check=None, doc=""):
        self.build = build
        self.fields = dict(fields or {})
        self.check = check or _no_check
        self.doc = doc


class Choice:
    """A section whose keys depend on its ``name`` (see the module docstring).

    Args:
        slot: the section's dotted path, for messages (``"Optimizer.lr"``).
        entries: ``{name: Entry}``, the registry (a ``dict``; users may add to it).
        default: the ``name`` when absent, or ``REQUIRED``.
        common: ``{key: Field or nested section}`` every entry shares, in order.
        check: ``section -> [(key, message), ...]`` for the common keys.
    """

    def __init__(self, slot, entries, default, common=None, check=None):
        self.slot = slot
        self.entries = entries
        self.default = default
        self.common = dict(common or {})
        self.check = check or _no_check

    def name_field(self):
        """The ``name`` key as a ``Field`` (choices: the entries registered now)."""
        return Field((str,), self.default, " | ".join(self.entries) + ".", tuple(self.entries))

    def keys_of(self, name):
        """``{key: Field or section}`` of the section when ``name`` is chosen: name, the
        common keys, the entry's own, then nested sections (``Optimizer.lr``)."""
        keys = {"name": self.name_field(), **self.common, **self.entries[name].fields}
        nested = [k for k, v in keys.items() if not isinstance(v, Field)]
        return {**{k: v for k, v in keys.items() if k not in nested},
                **{k: keys[k] for k in nested}}

    def all_keys(self):
        """Every key any entry reads, mapped to its ``Field``: what an override may name
        before the section's ``name`` is known."""
        keys = {"name": self.name_field(), **self.common}
        for entry in self.entries.values():
            keys.update(entry.fields)
        return keys

    def owners(self, key):
        """The entries that read ``key`` (for "belongs to plateau" messages)."""
        return [n for n, e in self.entries.items() if key in e.fields]

    def fill(self, section):
        """``section`` over its chosen entry's defaults: for builders called with a partial
        dict (tests, scripts). Nested sections are left as given."""
        name = section.get("name", self.default)
        if name not in self.entries:
            return dict(section)
        defaults = {k: f.default for k, f in self.keys_of(name).items()
                    if isinstance(f, Field) and f.default is not REQUIRED}
        return {**defaults, **section}
