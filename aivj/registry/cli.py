"""``aivj registry list|add|show|promote|rollback|verify|prune|ship``: inspect and steer the model registry.

The folder is ``--dir``, else ``$AIVJ_REGISTRY``, else ``$AIVJ_HOME/registry`` (default ``var/registry``).
The shipped champion in ``models/`` is listed and usable read-only; ``ship`` is the only writer there.
"""

from __future__ import annotations

import argparse
import json
import sys

from aivj.registry.rules import PromotionRules, decide_promotion, lookup
from aivj.registry.store import Registry, RegistryError, fingerprint_of


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="aivj registry", description=__doc__.splitlines()[0])
    p.add_argument("--dir", default=None, help="registry folder (default: $AIVJ_REGISTRY, else $AIVJ_HOME/registry)")
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
    rollback = sub.add_parser("rollback", help="make VERSION (default: the newest earlier sound champion) the champion")
    rollback.add_argument("version", nargs="?")
    verify = sub.add_parser("verify", help="check every file against its recorded sha256 and the pointer")
    verify.add_argument("version", nargs="?")
    prune = sub.add_parser("prune", help="delete all but the best K versions (by validation metric) and the champions")
    prune.add_argument("--keep", type=int, default=5)
    prune.add_argument("--dry-run", action="store_true")
    ship = sub.add_parser("ship", help="copy VERSION into models/ as the shipped champion (for a fresh clone)")
    ship.add_argument("version")
    return p


def _list(reg: Registry) -> int:
    """* = the default champion; ``where``: shipped (models/, read-only) or here; fp-champion: of its data fingerprint."""
    champion, shipped_champion = reg.champion(), reg.shipped_champion()
    versions = reg.versions()
    shipped = [v for v in reg.shipped_versions() if v not in versions]
    if not versions and not shipped:
        print(f"{reg.root}: no versions")
        return 0
    default = champion or shipped_champion
    print(
        f"{'':2}{'version':<18} {'val_metric':>10} {'golden':>8}  {'where':<7} {'data fingerprint':<20} {'fp-champion':<11} "
        "code_version"
    )
    for v in versions + shipped:
        meta = reg.meta(v)
        fp = fingerprint_of(meta)
        val, golden = meta.get("val_metric"), meta.get("golden_pass_rate")
        fmt = lambda x: f"{x:.4f}" if isinstance(x, (int, float)) else "-"  # noqa: E731
        print(
            f"{'*' if v == default else ' ':2}{v:<18} {fmt(val):>10} {fmt(golden):>8}  "
            f"{'shipped' if v in shipped else 'here':<7} {fp[:20]:<20} {'yes' if reg.champion_for(fp) == v else '':<11} "
            f"{meta.get('code_version', '-')}"
        )
    return 0


def _require_sound(reg: Registry, version: str) -> None:
    from aivj.registry.succession import version_problems

    problems = version_problems(reg, version)
    if problems:
        raise RegistryError(f"not made champion: {problems[0]}")


def _prune(reg: Registry, keep: int, dry_run: bool) -> int:
    champion, rules = reg.champion(), PromotionRules()
    scored = []
    for v in reg.versions():
        val = lookup(reg.metrics(v), rules.val_metric)
        scored.append((val if val is not None else float("-inf"), v))
    ranked = [v for _, v in sorted(scored, reverse=True)]
    kept = set(ranked[:keep]) | ({champion} if champion else set()) | set(reg.fingerprint_champions().values())
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
        # Reading a registry that is not there is an error; add may create the default one.
        reg.check_root(must_exist=args.cmd not in ("add",) and (args.dir is not None or reg.root.exists()))
        if args.cmd == "list":
            return _list(reg)
        if args.cmd == "add":
            from aivj.registry.api import register_run_folder

            version, promoted, reason = register_run_folder(
                args.run_dir, reg.root, args.data_dir, not args.no_promote, rules=PromotionRules.project()
            )
            print(f"{version}: {'champion' if promoted else 'candidate'} ({reason})")
            return 0
        if args.cmd == "show":
            version = args.version or reg.default_champion()
            if version is None:
                raise RegistryError(f"{reg.root}: no champion; name a version")
            print(
                json.dumps(
                    {
                        "meta": reg.meta(version),
                        "metrics": reg.metrics(version),
                        "champion": version == reg.default_champion(),
                        "shipped": version not in reg.versions(),
                    },
                    indent=2,
                    sort_keys=True,
                )
            )
            return 0
        if args.cmd == "promote":
            _require_sound(reg, args.version)
            current = reg.pointer_text()  # the rule judged against this; a promotion meanwhile refuses
            try:
                reg.champion()  # a broken default pointer is reported here; --force overwrites it
                champion = reg.champion_for(reg.fingerprint(args.version))
                ok, reason = decide_promotion(
                    reg.metrics(args.version), reg.metrics(champion) if champion else None, PromotionRules.project()
                )
            except RegistryError as exc:
                if not args.force:
                    raise
                ok, reason = False, f"the rule could not run: {exc}"  # --force repairs a broken pointer
            if not ok and not args.force:
                print(f"not promoted: {reason} (use --force to override)", file=sys.stderr)
                return 1
            reg.set_champion(args.version, reason if ok else f"forced: {reason}", expected=current)
            print(f"champion: {args.version} ({reason})")
            return 0
        if args.cmd == "ship":
            from aivj.registry.ship import ship

            where = ship(args.version, reg)
            print(f"shipped: {args.version} -> {where} (commit models/ to ship it with the source)")
            return 0
        if args.cmd == "rollback":
            current = reg.pointer_text()
            if not args.version:
                reg.champion()  # "previous" of a garbage pointer is a guess: name the file instead
            target = args.version or reg.previous_good()
            _require_sound(reg, target)
            reg.set_champion(target, "rollback", expected=current)
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
