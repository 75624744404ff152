"""The entry-point registry shared by every kind of plugin (predictors, generators).

A plugin is a class registered under an entry-point group in its package's metadata; :func:`installed` lists a
group and :func:`load_plugin` imports one class and checks that it subclasses the group's base class.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

from ase_lcom.errors import PluginError


def installed(group: str) -> dict[str, EntryPoint]:
    """Installed plugins of an entry-point group, by name."""
    return {ep.name: ep for ep in sorted(entry_points(group=group), key=lambda ep: ep.name)}


def load_plugin(group: str, name: str, base: type, what: str) -> type:
    """The class registered as ``name`` in ``group``; ``what`` names the kind in error messages.

    Raises
    ------
    PluginError
        When no plugin has that name, its entry point cannot be imported or it is not a ``base`` subclass.
    """
    found = installed(group)
    if name not in found:
        known = ", ".join(found) or "none installed"
        raise PluginError(f"unknown {what} {name!r}; installed: {known}")
    try:
        cls = found[name].load()
    except Exception as exc:
        raise PluginError(f"{what} {name!r} ({found[name].value}) failed to load: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise PluginError(f"{what} {name!r} ({found[name].value}) is not a {base.__name__} subclass")
    return cls
