"""What every fast path shares: putting its method in place of moto's, and taking it out."""

from __future__ import annotations

from typing import Any, Self

from cloudstore.localdynamo import moto_internals as mi


class Replacement:
    """A moto method (`owner.name`) answered by this object's method of the same name."""

    def __init__(self) -> None:
        self.patch: mi.Patch | None = None

    def replace(self, owner: type, name: str) -> Self:
        def replacement(target: Any, *args: Any, **kwargs: Any) -> Any:
            return getattr(self, name)(target, *args, **kwargs)

        self.patch = mi.Patch(owner, name, replacement)
        return self

    def uninstall(self) -> None:
        if self.patch is not None:
            self.patch.undo()
            self.patch = None
