"""What the optimiser passes share besides the Program: counters and timings, for reports."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class OptContext:
    """`stats` counts what each pass did (`"cse.merged_nodes"`, `"dce.removed_defines"`, ...);
    `timings` holds each pass's wall time in seconds, filled by `adlc.opt.optimise`."""

    stats: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def count(self, key: str, n: int = 1) -> None:
        self.stats[key] = self.stats.get(key, 0) + n
