"""The append path under cProfile, as a tree of the project's own functions.

``profile_store`` runs one-line and 1000-line calls on a fresh store under the
standard profiler (nothing in the library is patched) and prints, from
``Ledger.append_batch`` down, the time per call or per event of each function,
then own time by module. Shares, not absolute figures, compare with the
unprofiled table (the profiler inflates many small calls). ``bench/append.py
--profile`` calls it.
"""

from __future__ import annotations

import cProfile
import pstats
import re
import sys
import sysconfig
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import CodeType
from typing import Any

from bench.population import ROOT
from bench.stores import BATCH, Bench, Feed, append_all, chunked, timed
from ledger.bootstrap import Core

OUR_PACKAGES = ("ledger", "projections", "schemas")

Func = tuple[str, int, str]
"""pstats' key of a function: (file, first line, name)."""

_BUILTIN_OWNER = re.compile(r"of '([\w.]+)' objects|built-in method ([\w.]+)")
SOURCE_ROOTS = (
    Path(sysconfig.get_paths()["purelib"]),
    Path(sysconfig.get_paths()["stdlib"]),
    ROOT,  # last: the project's .venv holds the libraries
)
NAMED = (*OUR_PACKAGES, "eventsourcing")
"""Packages whose functions are named with their class: ours, and the library's."""
EXPANDED = (*NAMED, "functools")
"""Packages whose functions the tree opens: ours, the library that runs our hooks, and
``functools`` (its ``singledispatch`` wrappers lead to our rule functions)."""
SHOWN = 0.01
"""Callees under this share of the root are summed into one row."""


def loaded_functions() -> dict[tuple[str, int], str]:
    """(file, first line) -> qualified name of every function of the loaded modules.

    Read from the code objects Python runs (not from the files, which may have
    changed since they were imported), so methods show their class.
    """
    names: dict[tuple[str, int], str] = {}
    pending: list[Any] = [
        module
        for name, module in list(sys.modules.items())
        if name.split(".")[0] in NAMED and module is not None
    ]
    seen: set[int] = set()
    while pending:
        item = pending.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        for value in list(vars(item).values()):
            for candidate in (value, *(getattr(value, a, None) for a in _WRAPPING)):
                code = getattr(candidate, "__code__", None)
                if isinstance(code, CodeType) and package_of_file(code.co_filename) in NAMED:
                    key = code.co_filename, code.co_firstlineno
                    qualname = candidate.__qualname__
                    # One code object behind several functions is a decorator's wrapper.
                    names[key] = qualname if names.get(key, qualname) == qualname else code.co_name
            if isinstance(value, type) and value.__module__.split(".")[0] in NAMED:
                pending.append(value)
    return names


_WRAPPING = ("__wrapped__", "__func__", "fget", "func")
"""Where decorators, properties, static and class methods keep the function."""


def module_of(func: Func) -> str:
    """The dotted module a profiled function belongs to (the owner's, for builtins)."""
    filename, _, name = func
    if filename == "~":
        found = _BUILTIN_OWNER.search(name)
        owner = (found.group(1) or found.group(2)) if found else ""
        return owner.rsplit(".", 1)[0] if "." in owner else "builtins"
    path = Path(filename)
    for base in SOURCE_ROOTS:
        if path.is_relative_to(base):
            return ".".join(path.relative_to(base).with_suffix("").parts)
    return path.stem


def package_of_file(filename: str) -> str:
    """The top-level package of a source file."""
    return module_of((filename, 0, "")).split(".")[0]


def package_of(func: Func) -> str:
    """The group a function's own time is counted under: our module, or a package."""
    module = module_of(func)
    top = module.split(".")[0]
    return module if top in OUR_PACKAGES else top


@dataclass
class Profiled:
    """A profile of the append path and how to print it per unit."""

    stats: Any
    units: int
    unit: str
    total: float
    names: dict[tuple[str, int], str] = field(default_factory=loaded_functions)

    def label(self, func: Func) -> str:
        """``module.Class.function``, the module without its package for ours and the
        library's (builtins as cProfile names them)."""
        filename, line, name = func
        if filename == "~":
            return name
        module = module_of(func)
        if module.split(".")[0] in NAMED:
            module = module.rsplit(".", 1)[-1]
        return f"{module}.{self.names.get((filename, line), name)}"

    def row(self, text: str, seconds: float, calls: float | None, depth: int) -> None:
        """One line of the tree: time per unit, share of the root, calls per unit."""
        name = "  " * depth + text
        name = name if len(name) <= 80 else name[:77] + "..."
        per_unit = f"{calls / self.units:.3g}" if calls is not None else ""
        print(
            f"  {name:<80} {seconds / self.units * 1e6:>9.2f}"
            f" {seconds / self.total:>6.1%} {per_unit:>9}"
        )

    def tree(self, func: Func, seconds: float, depth: int, max_depth: int = 8) -> None:
        """``func``'s callees by time, ours and the library's opened, then the rest.

        cProfile records a callee's time per caller, but not what that callee's own
        callees did for each of its callers: a function called from several places
        has its callees shared out in proportion to its time from each.
        """
        scale = seconds / self.stats.stats[func][3] if self.stats.stats[func][3] else 0.0
        callees = self.stats.all_callees.get(func, {})
        rest, shown = seconds, False
        for callee, (count, _, _, inside) in sorted(callees.items(), key=lambda c: -c[1][3]):
            spent, calls = inside * scale, count * scale
            if spent < SHOWN * self.total:
                continue
            rest, shown = rest - spent, True
            self.row(self.label(callee), spent, calls, depth)
            if module_of(callee).split(".")[0] in EXPANDED and depth < max_depth:
                self.tree(callee, spent, depth + 1, max_depth)
        if shown and rest >= SHOWN * self.total:
            self.row("(own code and calls under 1% each)", rest, None, depth)

    def by_module(self, top: int = 14) -> None:
        """Own time grouped by our module or outside package, largest first."""
        own: Counter[str] = Counter()
        for func, (_, _, tt, _, _) in self.stats.stats.items():
            own[package_of(func)] += tt
        print(f"  {'own time by module':<80} {self.unit:>9} {'share':>6}")
        for module, seconds in own.most_common(top):
            self.row(module, seconds, None, 0)


def append_root(stats: Any) -> Func:
    """pstats' key of ``Ledger.append_batch``."""
    for func in stats.stats:
        if func[2] == "append_batch" and func[0].endswith("appending/application.py"):
            return func  # type: ignore[no-any-return]
    msg = "Ledger.append_batch is not in the profile"
    raise SystemExit(msg)


def profile_run(core: Core, batches: Sequence[Sequence[bytes]], title: str) -> None:
    """Append under cProfile and print the append path's tree and modules."""
    profiler = cProfile.Profile()
    wall = timed(partial(profiler.runcall, append_all, core, batches))
    stats: Any = pstats.Stats(profiler)
    stats.calc_callees()
    events = sum(len(b) for b in batches)
    per_call = len(batches[0]) == 1
    root = append_root(stats)
    total = stats.stats[root][3]
    unit = "us/call" if per_call else "us/event"
    report = Profiled(stats, len(batches) if per_call else events, unit, total)
    print(f"\n{title}: {events} events, {events / wall:,.0f} events/s under the profiler")
    print(f"  {'function (time inside it when called from the line above)':<80}"
          f" {unit:>9} {'share':>6} {'calls/' + unit[3:]:>9}")  # fmt: skip
    report.row(report.label(root), total, stats.stats[root][1], 0)
    report.tree(root, total, 1)
    print()
    report.by_module()


def profile_store(bench: Bench, store: str) -> None:
    """Both append paths under cProfile on one store."""
    core = bench.open_core(store, "profile")
    feed = Feed(core, bench.definition, seed=3)
    policy = f"--seal {bench.args.seal}"
    try:
        append_all(core, chunked(feed.take(2 * BATCH), BATCH))  # warm up
        if bench.args.profile_calls > 0:  # 0: profile the batches only
            singles = [[line] for line in feed.take(bench.args.profile_calls)]
            title = f"{store}: append_batch(1 line) under cProfile, {policy}"
            profile_run(core, singles, title)
        if bench.args.profile_events > 0:  # 0: profile the one-line calls only
            batches = list(chunked(feed.take(bench.args.profile_events), BATCH))
            title = f"{store}: append_batch({BATCH} lines) under cProfile, {policy}"
            profile_run(core, batches, title)
    finally:
        core.close()
