"""docs/modules.md, drawn from the module map: a diagram of the modules, what each depends on and
which events pass between them, then one short canvas per module.

`make modules` writes it, and so do generation and `make entity` / `make remove-entity`, which
change the modules: all of them through `write`, so the map a test holds the code to is drawn
one way."""

from pathlib import Path

from core.modulith.graph import ModuleMap

DOCUMENT = "docs/modules.md"


def _code(items: list[str]) -> str:
    return ", ".join(f"`{item}`" for item in items) if items else "none"


def diagram(modules: ModuleMap) -> list[str]:
    lines = ["```mermaid", "flowchart LR"]
    for name in modules.modules:
        lines.append(f"  {name}[{name}]")
    for name, module in modules.modules.items():
        for dependency in sorted(module.dependencies & modules.modules.keys()):
            lines.append(f"  {name} --> {dependency}")
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
        ("depends on", _code(sorted(module.dependencies & modules.modules.keys()))),
        ("used by", _code([other for other, used in modules.modules.items() if name in used.dependencies])),
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
        "# Modules",
        "",
        "Written by `make modules` from the code (`python -m core.modulith document`); a test fails",
        "when it is stale. Solid arrows are imports of another module's `api` or `events`; dotted ones",
        "are events, from the module that publishes them to the one that listens.",
        "",
        *diagram(modules),
        "",
    ]
    for name in modules.modules:
        lines += canvas(modules, name)
    return "\n".join(lines).rstrip("\n") + "\n"


def write(root: Path) -> None:
    """Draw the module map of the project at `root` into its DOCUMENT."""
    path = root / DOCUMENT
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(ModuleMap.read(root)))
