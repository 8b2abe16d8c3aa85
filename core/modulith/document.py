"""docs/modules.md, drawn from the module map: a diagram of the modules, what each depends on (and
why: an import, a foreign key) and which events pass between them, then one short canvas per module.

`make modules` writes it with the reference pages (`reference`), and so do generation and
`make entity` / `make remove-entity`, which change the modules: all of them through `write`, so
the pages a test holds the code to are drawn one way."""

from itertools import groupby
from pathlib import Path

from core.modulith import reference
from core.modulith.graph import Dependency, ModuleMap

DOCUMENT = "docs/modules.md"


def _code(names: list[str]) -> str:
    return ", ".join(f"`{name}`" for name in names) if names else "none"


def _by_module(links: list[Dependency]) -> dict[str, list[Dependency]]:
    return {name: list(group) for name, group in groupby(sorted(links), key=lambda link: link.module)}


def _kinds(links: list[Dependency]) -> str:
    return ", ".join(sorted({link.kind.value for link in links}))


def _reasons(links: list[Dependency]) -> str:
    """`<module>` (import `modules.<module>.api`; table `<rows>.owner_id → <owners>.id`): each module, and
    what couples them, by kind."""
    described = []
    for name, group in _by_module(links).items():
        why = [
            f"{kind.value} {_code([link.detail for link in group if link.kind == kind])}"
            for kind in sorted({link.kind for link in group})
        ]
        described.append(f"`{name}` ({'; '.join(why)})")
    return ", ".join(described) or "none"


def _users(modules: ModuleMap, name: str) -> str:
    """`auth` (import, table): each module that depends on `name`, and by which kinds."""
    by_module = _by_module(modules.used_by(name))
    return ", ".join(f"`{other}` ({_kinds(links)})" for other, links in by_module.items()) or "none"


def diagram(modules: ModuleMap) -> list[str]:
    lines = ["```mermaid", "flowchart LR"]
    for name in modules.modules:
        lines.append(f"  {name}[{name}]")
    for name, module in modules.modules.items():
        for dependency, links in _by_module(module.links).items():
            lines.append(f"  {name} -->|{_kinds(links)}| {dependency}")
    for name, module in modules.modules.items():
        heard: dict[str | None, list[str]] = {}
        for listener in module.listeners:
            heard.setdefault(listener.publisher, []).append(listener.event)
        for publisher, events in sorted(heard.items(), key=lambda item: str(item[0])):
            if publisher in modules.modules:
                lines.append(f"  {publisher} -. {' / '.join(sorted(set(events)))} .-> {name}")
    lines.append("```")
    return lines


def canvas(modules: ModuleMap, name: str) -> list[str]:
    module = modules.modules[name]
    listened = [
        f"{listener.publisher}.{listener.event}` → `{listener.function}" for listener in module.listeners
    ]
    rows = [
        ("depends on", _reasons(module.links)),
        ("used by", _users(modules, name)),
        ("public names (`api.py`)", _code(module.public_names)),
        ("publishes (`events.py`)", _code(module.events)),
        ("listens to", _code(listened)),
        ("routes", _code([f"{method} {path}" for method, path in module.routes])),
        ("tables", _code(module.tables)),
        ("jobs", _code(module.jobs)),
    ]
    return [f"## {name}", "", "| | |", "|---|---|", *(f"| {label} | {value} |" for label, value in rows), ""]


def render(modules: ModuleMap) -> str:
    lines = [
        reference.generated("the code of core/ and modules/"),
        "# Modules",
        "",
        "A solid arrow is a dependency, labelled with its kinds: `import` (of the other module's",
        "`api` or `events`), `table` (a foreign key to one of its tables). Dotted arrows are events,",
        "from the module that publishes them to the one that listens.",
        "",
        *diagram(modules),
        "",
    ]
    for name in modules.modules:
        lines += canvas(modules, name)
    return "\n".join(lines).rstrip("\n") + "\n"


def pages(root: Path) -> dict[str, str]:
    """{path from `root`: text} of every page drawn from the code of the project at `root`: the
    reference pages, then the module map."""
    return {**reference.pages(root), DOCUMENT: render(ModuleMap.read(root))}


def stale(root: Path) -> list[str]:
    """The pages whose file is missing or differs from what the code draws."""
    return [path for path, text in pages(root).items() if not _holds(root / path, text)]


def _holds(path: Path, text: str) -> bool:
    return path.is_file() and path.read_text() == text


def write(root: Path) -> list[str]:
    """Draw every page of the project at `root` (`pages`); return those that changed. One that
    has not changed is left alone, so a watching docs server does not rebuild for nothing."""
    written = []
    for path, text in pages(root).items():
        if not _holds(root / path, text):
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text)
            written.append(path)
    return written
