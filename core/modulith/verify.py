"""The boundaries, derived from the folders: nothing here lists a module or an exception.

1. A module imports another only through its `api` or `events`; the rest of the folder is the
   other module's own. The line names the public name to use instead.
2. No cycles: modules that import each other, however indirectly, are one module in two folders.
   The way out is an event: one publishes, the other listens.
3. `core` imports no module: it finds them (`core.discovery`).

Every violation is one line, `path:line: what is wrong; what to do`.
"""

from core.modulith.graph import PACKAGE, Import, Kind, ModuleMap


def _instead(found: Import, modules: ModuleMap) -> str:
    """Where `found`'s names are to be had publicly, or what to add for that."""
    owner = str(found.module)
    module = modules.modules[owner]
    public = f"{PACKAGE}.{owner}"
    names = _names(found)
    if not names:
        return f"import what you need from {public}.api or {public}.events"
    advice = []
    for part, offered in (("api", module.public_names), ("events", module.events)):
        here = [name for name in names if name in offered]
        if here:
            advice.append(f"import {', '.join(here)} from {public}.{part}")
    missing = [name for name in names if name not in module.public_names and name not in module.events]
    if missing:
        advice.append(
            f"{owner} offers no {', '.join(missing)}: add it to {PACKAGE}/{owner}/api.py, or keep it out"
        )
    return "; ".join(advice)


def _names(found: Import) -> tuple[str, ...]:
    # `from modules.<name> import service` takes a whole part of the module, not names in it.
    return () if found.names == (found.target.rsplit(".", 1)[-1],) else found.names


def private_imports(modules: ModuleMap) -> list[str]:
    problems = []
    for name, module in modules.modules.items():
        for found in module.imports:
            if found.module and found.module != name and not found.public:
                names = _names(found)
                what = f"{', '.join(names)} from {found.target}" if names else found.target
                advice = _instead(found, modules)
                problems.append(f"{found.where}: {name} imports {what}, private to {found.module}; {advice}")
    return problems


def core_imports(modules: ModuleMap) -> list[str]:
    return [
        f"{found.where}: core imports {found.target}; core knows no module: "
        "find them with core.discovery, or move the code into the module"
        for found in modules.core_imports
    ]


def _cycles(modules: ModuleMap) -> list[list[str]]:
    """Every group of modules that depend on each other (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        # Imports only: tables that reference each other are one schema, not code that calls itself.
        for other in sorted(modules.modules[name].dependencies_by(Kind.IMPORT)):
            if other not in index:
                visit(other)
                low[name] = min(low[name], low[other])
            elif other in stack:
                low[name] = min(low[name], index[other])
        if low[name] == index[name]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == name:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for name in sorted(modules.modules):
        if name not in index:
            visit(name)
    return groups


def cycle_imports(modules: ModuleMap) -> list[str]:
    problems = []
    for group in _cycles(modules):
        circle = " and ".join(group)
        for name in group:
            for found in modules.modules[name].imports:
                if found.module in group and found.module != name:
                    problems.append(
                        f"{found.where}: {name} imports {found.target}, but {circle} depend on each other; "
                        f"one of them must not import the other: let it publish an event the other listens to"
                    )
    return problems


def violations(modules: ModuleMap) -> list[str]:
    """Every broken rule, one line each, in a stable order."""
    return [*core_imports(modules), *private_imports(modules), *cycle_imports(modules)]
