"""``aivj registry list|add|show|promote|rollback|verify|prune``: inspect and steer the model registry.

The folder is ``--dir``, else ``$AIVJ_REGISTRY``, else ``models/`` at the project root.
"""

from __future__ import annotations

import argparse
import json
import sys

from aivj.registry.rules import PromotionRules, decide_promotion, lookup
from aivj.registry.store import Registry, RegistryError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="aivj registry", description=__doc__.splitlines()[0])
    p.add_argument("--dir", default=None, help="registry folder (default: $AIVJ_REGISTRY or models/)")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="all versions, champion marked")
    add = sub.add_parser("add", help="register a finished train.py run folder as a candidate")
    add.add_argument("run_dir")
    add.add_argument("--data-dir", default=None, help="the dataset it was trained on (recorded with its hash)")
    add.add_argument("--no-promote", action="store_true", help="keep it as a candidate even if the rule holds")
    show = sub.add_parser("show", help="metadata and metrics of a version (default: the champion)")
    show.add_argument("version", nargs="?")
    promote = sub.add_parser("promote", help="make VERSION the champion if the promotion rule holds")
    promote.add_argument("version")
    promote.add_argument("--force", action="store_true", help="skip the rule")
    rollback = sub.add_parser("rollback", help="make VERSION (default: the previous champion) the champion")
    rollback.add_argument("version", nargs="?")
    verify = sub.add_parser("verify", help="check every file against its recorded sha256 and the pointer")
    verify.add_argument("version", nargs="?")
    prune = sub.add_parser("prune", help="delete all but the best K versions (by validation metric) and the champion")
    prune.add_argument("--keep", type=int, default=5)
    prune.add_argument("--dry-run", action="store_true")
    return p


def _list(reg: Registry) -> int:
    champion = reg.champion()
    versions = reg.versions()
    if not versions:
        print(f"{reg.root}: no versions")
        return 0
    print(f"{'':2}{'version':<18} {'val_metric':>10} {'golden':>8}  code_version")
    for v in versions:
        meta = reg.meta(v)
        val, golden = meta.get("val_metric"), meta.get("golden_pass_rate")
        fmt = lambda x: f"{x:.4f}" if isinstance(x, (int, float)) else "-"  # noqa: E731
        print(f"{'*' if v == champion else ' ':2}{v:<18} {fmt(val):>10} {fmt(golden):>8}  {meta.get('code_version', '-')}")
    return 0


def _previous_champion(reg: Registry) -> str:
    current = reg.champion()
    for row in reversed(reg.history()):
        if row.get("champion") == current and row.get("previous") and row["previous"] in reg.versions():
            return row["previous"]
    raise RegistryError(f"{reg.root}: no previous champion to roll back to")


def _prune(reg: Registry, keep: int, dry_run: bool) -> int:
    champion, rules = reg.champion(), PromotionRules()
    scored = []
    for v in reg.versions():
        val = lookup(reg.metrics(v), rules.val_metric)
        scored.append((val if val is not None else float("-inf"), v))
    ranked = [v for _, v in sorted(scored, reverse=True)]
    kept = set(ranked[:keep]) | ({champion} if champion else set())
    doomed = [v for v in ranked if v not in kept]
    for v in doomed:
        print(("would remove " if dry_run else "removed ") + v)
        if not dry_run:
            reg.remove(v)
    if doomed and not dry_run:
        reg.rebuild_index()
    print(f"kept {len(kept)} version(s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    reg = Registry(args.dir)
    try:
        if args.cmd == "list":
            return _list(reg)
        if args.cmd == "add":
            from aivj.registry.api import register_run_folder

            version, promoted, reason = register_run_folder(args.run_dir, reg.root, args.data_dir, not args.no_promote)
            print(f"{version}: {'champion' if promoted else 'candidate'} ({reason})")
            return 0
        if args.cmd == "show":
            version = args.version or reg.champion()
            if version is None:
                raise RegistryError(f"{reg.root}: no champion; name a version")
            print(json.dumps({"meta": reg.meta(version), "metrics": reg.metrics(version),
                              "champion": version == reg.champion()}, indent=2, sort_keys=True))
            return 0
        if args.cmd == "promote":
            champion = reg.champion()
            ok, reason = decide_promotion(reg.metrics(args.version), reg.metrics(champion) if champion else None)
            if not ok and not args.force:
                print(f"not promoted: {reason} (use --force to override)", file=sys.stderr)
                return 1
            reg.set_champion(args.version, reason if ok else f"forced: {reason}")
            print(f"champion: {args.version} ({reason})")
            return 0
        if args.cmd == "rollback":
            target = args.version or _previous_champion(reg)
            reg.set_champion(target, "rollback")
            print(f"champion: {target} (rollback)")
            return 0
        if args.cmd == "verify":
            problems = reg.verify(args.version)
            for line in problems:
                print(line, file=sys.stderr)
            print("ok" if not problems else f"{len(problems)} problem(s)")
            return 1 if problems else 0
        if args.cmd == "prune":
            return _prune(reg, args.keep, args.dry_run)
    except RegistryError as exc:
        print(f"aivj registry: {exc}", file=sys.stderr)
        return 2
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
