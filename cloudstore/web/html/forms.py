"""What a form view hands back to its template: the values as typed (cleaned), one message
per field shown beside it, and a message about the whole form."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Form:
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None  # about the whole form, not one field

    @property
    def ok(self) -> bool:
        return not self.errors and not self.message
