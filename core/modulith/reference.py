"""The reference pages, drawn from the code as the module map is, and written with it by
`document.write`: every setting (docs/reference/settings.md), every error code (errors.md),
every metric (metrics.md), every make command (commands.md), and the pages a module draws of
itself (its `reference.py`).

What they list is read from the source (`declarations`), so generation draws them for each new
service in a Python without its dependencies, from that service's own files. Each setting has a
heading of its own: another page links to one as `reference/settings.md#jobs_lease_seconds`
(its name, lowercased).
"""

import importlib.util
import re
from itertools import groupby
from pathlib import Path

from core.modulith.declarations import (
    Code,
    Command,
    Declared,
    Metric,
    Setting,
    code_classes,
    commands,
    metrics,
    setting_classes,
)
from core.modulith.graph import PACKAGE

SETTINGS = "docs/reference/settings.md"
ERRORS = "docs/reference/errors.md"
METRICS = "docs/reference/metrics.md"
COMMANDS = "docs/reference/commands.md"
_SETTING_NAME = re.compile(r"`([A-Z][A-Z0-9_]+)`")
_PAGE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*\.md")


def generated(source: str) -> str:
    """The first line of every page drawn from the code: from what, and what redraws it."""
    return (
        f"<!-- Generated from {source} by `make modules` (python -m core.modulith document): change"
        " that, not this page; a test fails when it is stale. -->"
    )


def _sentence(text: str) -> str:
    return text if text.endswith(".") else f"{text}."


def _linked(text: str, *, settings: set[str], page: str = "settings.md") -> str:
    """Each setting named as code (`MAX_REQUEST_BODY_BYTES`) links to its entry on `page`."""

    def link(found: re.Match[str]) -> str:
        name = found.group(1)
        return f"[{found.group(0)}]({page}#{name.lower()})" if name in settings else found.group(0)

    return _SETTING_NAME.sub(link, text)


def settings_page(sections: list[Declared[Setting]]) -> str:
    lines = [
        generated("core/config.py and modules/*/settings.py"),
        "# Settings",
        "",
        "Every setting the service reads, from the environment variable of its name or from `.env`",
        "(the environment wins; `.env.example` lists them all): core's, then each module's, from",
        "its `settings.py`. A service without a module has none of its settings.",
    ]
    names = {setting.name for section in sections for setting in section.items}
    for section in sections:
        lines += ["", f"## {section.source}", "", f"`{section.name}`"]
        lines += ["", section.description] if section.description else []
        for setting in section.items:
            default = "unset" if setting.default is None else f"`{setting.default}`"
            facts = " · ".join([f"`{setting.kind}`", f"default {default}", *setting.limits])
            described = _linked(setting.description, settings=names - {setting.name}, page="")
            lines += ["", f"### {setting.name}", "", facts, "", described or "(undocumented)"]
    return "\n".join(lines) + "\n"


def errors_page(enums: list[Declared[Code]], *, setting_names: set[str]) -> str:
    lines = [
        generated("core/errors.py and modules/*/errors.py"),
        "# Error codes",
        "",
        'Every error body is `{"detail": ..., "code": ...}`: `detail` says what happened in words',
        "(for a 422, a list of the problems), `code` is stable, for programs to branch on. Core's",
        "codes, then each module's own (`@error_codes` in its `errors.py`); `/openapi.json` lists",
        "them all in its `ErrorCode` schema, and each operation the statuses it can answer.",
    ]
    for enum in enums:
        lines += [
            "",
            f"## {enum.source}",
            "",
            f"`{enum.name}`",
            "",
            "| code | status | when |",
            "|---|---|---|",
        ]
        for code in enum.items:
            when = _linked(" ".join(code.when.split()).replace("|", "\\|"), settings=setting_names)
            lines.append(f"| `{code.value}` | {code.status or '?'} | {when or '(undocumented)'} |")
    return "\n".join(lines) + "\n"


def metrics_page(found: list[Metric], *, setting_names: set[str]) -> str:
    lines = [
        generated("core/metrics.py and modules/*/metrics.py"),
        "# Metrics",
        "",
        "Every metric the service counts, under the names Prometheus scrapes from the metrics",
        "listener ([Operate](../operate.md#metrics) says how to serve them and alert on them):",
        "core's, then each module's, from its `metrics.py`. A service without a module has none of",
        "its metrics. What each means is its help, which `/metrics` serves too.",
        "",
        "A histogram's `_bucket` samples have one more label, `le`: the bucket's upper bound. A",
        "process that serves only its own numbers (no `PROMETHEUS_MULTIPROC_DIR`, as",
        "`python -m core.jobs worker` unless you set one) also serves a `_created` sample of each",
        "counter and histogram, and prometheus_client's own `process_*` and `python_*` metrics.",
    ]
    for source, group in groupby(found, key=lambda metric: metric.source):
        lines += ["", f"## {source}", "", "| metric | type | labels | what |", "|---|---|---|---|"]
        for metric in group:
            names = ", ".join(f"`{sample}`" for sample in metric.samples)
            labels = ", ".join(f"`{label}`" for label in metric.labels) or "none"
            what = _linked(" ".join(metric.description.split()).replace("|", "\\|"), settings=setting_names)
            lines.append(f"| {names} | {metric.kind} | {labels} | {_sentence(what)} |")
    return "\n".join(lines) + "\n"


def commands_page(found: list[Command]) -> str:
    lines = [
        generated("the Makefile"),
        "# Make commands",
        "",
        "Every command of the Makefile, in its order; `make help` lists them too. The first one",
        "that needs it builds `.venv` from the pinned lock.",
    ]
    for command in found:
        lines += ["", f"## make {command.name}", "", _sentence(command.help)]
        if command.notes:
            lines += ["", command.notes]
    return "\n".join(lines) + "\n"


def module_pages(root: Path) -> dict[str, str]:
    """{path: text} of the pages each module draws of itself: `pages()` of its `reference.py`
    ({file name: markdown}), written into its folder.

    The file is loaded from the project at `root`, not imported through `sys.path`, where
    generation has the template's checkout; so it may import only the standard library and load
    its module's plain files (an enum) the same way."""
    found = {}
    for path in sorted((root / PACKAGE).glob("*/reference.py")):
        spec = importlib.util.spec_from_file_location(f"_reference_of_{path.parent.name}", path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        pages: dict[str, str] = module.pages()
        source = path.relative_to(root)
        for name, text in pages.items():
            if not _PAGE_NAME.fullmatch(name):
                raise ValueError(f"{source}: pages() names {name!r}, not a lower-case *.md file name")
            found[str(source.parent / name)] = f"{generated(str(source))}\n{text.rstrip()}\n"
    return found


def pages(root: Path) -> dict[str, str]:
    """{path from `root`: text} of every reference page of the project at `root`."""
    sections = setting_classes(root)
    names = {setting.name for section in sections for setting in section.items}
    return {
        SETTINGS: settings_page(sections),
        ERRORS: errors_page(code_classes(root), setting_names=names),
        METRICS: metrics_page(metrics(root), setting_names=names),
        COMMANDS: commands_page(commands(root)),
        **module_pages(root),
    }
