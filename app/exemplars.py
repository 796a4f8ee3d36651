"""The Restyle tool's exemplars, without Qt: a first one, an optional second one, and the mix between
them (``engine.restyle``'s ``mix``: 0 the first's style only, 1 the second's). Each remembers whether it
lies in the painting on the canvas, so the panel can outline it there."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from engine.restyle_checks import DEFAULT_MIX, restyle_notices

FIRST, SECOND = 0, 1


@dataclass(frozen=True)
class Exemplar:
    image: np.ndarray  # (H, W, C): the painting the region is taken from
    region: np.ndarray  # (H, W) bool
    description: str  # "a region of this painting", a file name, ...
    on_canvas: bool = False  # lies in the painting the canvas shows

    def summary(self) -> str:
        return f"{self.description} ({int(self.region.sum()):,} px)"


class Exemplars:
    def __init__(self) -> None:
        self.first: Exemplar | None = None
        self.second: Exemplar | None = None
        self.mix = DEFAULT_MIX
        #: Counts the changes of what a restyle is computed from (exemplars, mix).
        self.version = 0

    def put(self, exemplar: Exemplar, slot: int = FIRST) -> int:
        """Take ``exemplar`` as the first or the second one (the second only once there is a first);
        returns the slot it went to."""
        self.version += 1
        if slot == SECOND and self.first is not None:
            self.second = exemplar
            return SECOND
        self.first = exemplar
        return FIRST

    def remove_second(self) -> None:
        self.second = None
        self.version += 1

    def set_mix(self, mix: float) -> None:
        self.mix = mix
        self.version += 1

    def painting_replaced(self) -> bool:
        """Another painting is on the canvas: exemplars taken from the one before are kept but no longer
        lie on it. Returns whether any did."""
        changed = False
        for name in ("first", "second"):
            exemplar = getattr(self, name)
            if exemplar is not None and exemplar.on_canvas:
                setattr(self, name, replace(exemplar, description="a region of the painting opened before",
                                            on_canvas=False))
                changed = True
        return changed

    def on_canvas(self) -> list[np.ndarray]:
        """The regions that lie in the painting on the canvas."""
        return [exemplar.region for exemplar in (self.first, self.second)
                if exemplar is not None and exemplar.on_canvas]

    def key(self) -> int:
        """Changes whenever what a restyle is computed from changes."""
        return self.version

    def restyle_arguments(self) -> dict[str, Any]:
        """``engine.restyle.prepare_restyle``'s exemplar arguments (there must be a first exemplar)."""
        assert self.first is not None
        arguments: dict[str, Any] = {"exemplar": self.first.image, "exemplar_region": self.first.region}
        if self.second is not None:
            arguments.update(second_exemplar=self.second.image, second_region=self.second.region, mix=self.mix)
        return arguments

    def describe(self, painting: np.ndarray | None = None) -> str:
        """What the panel says about the exemplars; with the ``painting`` on the canvas, also what the artist should
        be told (``engine.restyle_checks.restyle_notices``: a grey painting, a tiny exemplar region)."""
        if self.first is None:
            return ("No exemplar yet: pick it on the painting (click or box it), select it and Use Selection as "
                    "Exemplar, or open another image.")
        text = f"Exemplar: {self.first.summary()}."
        if self.second is not None:
            text += f"\nSecond: {self.second.summary()}."
        exemplars = [(exemplar.image, exemplar.region) for exemplar in (self.first, self.second) if exemplar is not None]
        notices = restyle_notices(painting, exemplars) if painting is not None else []
        subjects = ("first exemplar: ", "second exemplar: ") if len(exemplars) > 1 else ("", "")
        text += "".join(f"\nNote: {'' if which is None else subjects[which]}{notice}." for which, notice in notices)
        return text
