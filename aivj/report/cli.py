"""``aivj report release --candidate V --champion V``: the release quality report, Markdown + HTML.

Writes ``release.md`` (images beside it in release_plots/) and ``release.html`` (images inline) into
``--out`` (default ``$AIVJ_HOME/runs/release/<candidate>_vs_<champion>``). ``--champion`` defaults to
the registry's champion.
"""

from __future__ import annotations

import argparse
import base64
import html
import shutil
import sys
from pathlib import Path

from aivj.contract.atomic import write_text_atomic
from aivj.home import state_dir
from aivj.registry.store import Registry, RegistryError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="aivj report", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    rel = sub.add_parser("release", help="a candidate against the champion, before it ships")
    rel.add_argument("--candidate", required=True)
    rel.add_argument("--champion", default=None, help="default: the registry's champion")
    rel.add_argument("--registry", default=None, help="registry folder (default: $AIVJ_REGISTRY, else $AIVJ_HOME/registry)")
    rel.add_argument("--out", type=Path, default=None)
    rel.add_argument("--no-latency", action="store_true", help="skip loading both models to time them")
    return p


def _local(images: list[Path], out: Path) -> list[Path]:
    """Images copied under ``out`` (a version's plots live in the registry) so the folder stands alone."""
    local = []
    for image in images:
        if not image.is_relative_to(out):
            target = out / "release_plots" / f"{image.parents[2].name}_{image.name}"
            shutil.copyfile(image, target)
            image = target
        local.append(image)
    return local


def write_release(rel, out: Path) -> tuple[Path, Path]:
    figures = [(title, _local(images, out)) for title, images in rel.figures]
    md = [f"# Release report: {rel.candidate} vs champion {rel.champion}", "", *[f"- {f}" for f in rel.facts], ""]
    for title, rows in rel.tables:
        md += [f"## {title}", "", "| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
        md += ["| " + " | ".join(r) + " |" for r in rows[1:]] + [""]
    for title, images in figures:
        md += [f"## {title}", "", " ".join(f"![{title}]({i.relative_to(out).as_posix()})" for i in images), ""]
    esc = html.escape
    page = [
        f"<!doctype html><meta charset='utf-8'><title>Release {esc(rel.candidate)}</title>",
        "<style>body{font-family:sans-serif;max-width:80em}td,th{border:1px solid #ccc;padding:2px 8px}img{max-width:48%}</style>",
        f"<h1>Release report: {esc(rel.candidate)} vs champion {esc(rel.champion)}</h1>",
        "<ul>" + "".join(f"<li>{esc(f)}</li>" for f in rel.facts) + "</ul>",
    ]
    for title, rows in rel.tables:
        cells = lambda r, tag: "".join(f"<{tag}>{esc(c)}</{tag}>" for c in r)  # noqa: E731
        page.append(f"<h2>{esc(title)}</h2><table><tr>{cells(rows[0], 'th')}</tr>")
        page.append("".join(f"<tr>{cells(r, 'td')}</tr>" for r in rows[1:]) + "</table>")
    for title, images in figures:  # inline: the HTML file stands alone
        tags = "".join(
            f"<img alt='{esc(title)}' src='data:image/png;base64,{base64.b64encode(i.read_bytes()).decode()}'>" for i in images
        )
        page.append(f"<h2>{esc(title)}</h2>{tags}")
    md_path, html_path = out / "release.md", out / "release.html"
    write_text_atomic(md_path, "\n".join(md) + "\n")
    write_text_atomic(html_path, "\n".join(page) + "\n")
    return md_path, html_path


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from aivj.report.release import build_release

    try:
        reg = Registry(args.registry)
        champion = args.champion or reg.default_champion()
        if champion is None:
            raise RegistryError(f"{reg.root}: no champion; pass --champion VERSION")
        for version in (args.candidate, champion):
            reg.path(version)  # a one-line error naming the registry and its versions
        out = args.out or state_dir("runs") / "release" / f"{args.candidate}_vs_{champion}"
        rel = build_release(args.candidate, champion, out, args.registry, latency=not args.no_latency)
        md_path, html_path = write_release(rel, out)
    except (RegistryError, ValueError) as exc:
        print(f"aivj report: {exc}", file=sys.stderr)
        return 2
    print(f"{md_path}\n{html_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
