"""Read the module map from the source: every import between modules (and from core into one),
every foreign key from one module's table to another's, and what each module declares, from the
syntax tree of its files."""

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from pathlib import Path

from core.naming import table_name

PACKAGE = "modules"
# A module's public surface: `modules.<name>.api` and `modules.<name>.events`.
PUBLIC_PARTS = ("api", "events")
_METHODS = ("get", "post", "put", "patch", "delete")
# The seams of a module's `Manifest` that the whole app stands on: the caller's standing, the
# sign-in, a site installed beside the API. A module that fills one is part of every slice, since
# the app does not start (or serve the rest) without it; a service without it has no such module.
CORE_SEAMS = ("caller", "sign_in", "install")


class Kind(StrEnum):
    """Why a module depends on another: either way, it breaks without the other."""

    IMPORT = "import"  # it imports the other's `api` or `events` (or, against the rules, more)
    TABLE = "table"  # a foreign key of one of its tables names one of the other's tables
    SEAM = "seam"  # it relies on a core seam that the other fills


@dataclass(frozen=True, order=True)
class Dependency:
    """One reason `module` is needed: `Dependency("<module>", Kind.TABLE, "<rows>.owner_id → <table>.id")`."""

    module: str
    kind: Kind
    detail: str  # what couples them: the module imported, or the foreign key


@dataclass(frozen=True)
class Import:
    """One import statement's view of one module: `from modules.<name>.models import <Model>`."""

    path: Path  # of the importing file, relative to the root
    line: int
    target: str  # the module imported from: modules.<name>.models
    names: tuple[str, ...]  # what it takes from there (none for `import modules.<name>.models`)

    @property
    def module(self) -> str | None:
        """The module folder the target belongs to (`<name>`), or None outside `modules`."""
        parts = self.target.split(".")
        return parts[1] if parts[0] == PACKAGE and len(parts) > 1 else None

    @property
    def public(self) -> bool:
        parts = self.target.split(".")
        return len(parts) == 3 and parts[2] in PUBLIC_PARTS

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Listener:
    function: str  # end_sign_ins
    event: str  # the class as imported: UserDeactivated
    publisher: str | None  # the module whose events.py it comes from


@dataclass
class Module:
    name: str
    root: Path
    imports: list[Import] = field(default_factory=list)  # of other modules only
    links: list[Dependency] = field(default_factory=list)  # on other modules, every kind (ModuleMap.read)

    @property
    def folder(self) -> Path:
        return self.root / PACKAGE / self.name

    def _tree(self, part: str) -> ast.Module | None:
        path = self.folder / f"{part}.py"
        return ast.parse(path.read_text(), str(path)) if path.exists() else None

    @property
    def dependencies(self) -> set[str]:
        """The modules it depends on, for any reason."""
        return {link.module for link in self.links}

    def dependencies_by(self, kind: Kind) -> set[str]:
        return {link.module for link in self.links if link.kind == kind}

    @cached_property
    def public_names(self) -> list[str]:
        """What `api.py` offers: its `__all__`, or else every name it defines or imports."""
        tree = self._tree("api")
        return top_level_names(tree) if tree else []

    @cached_property
    def events(self) -> list[str]:
        tree = self._tree("events")
        if tree is None:
            return []
        return [
            node.name
            for node in tree.body
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_")
        ]

    @cached_property
    def routes(self) -> list[tuple[str, str]]:
        """(METHOD, path) of every route `router.py` declares, as mounted under /api/v1/<name>."""
        tree = self._tree("router")
        found = []
        for node in ast.walk(tree) if tree else ():
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for decorator in node.decorator_list:
                    call = decorator if isinstance(decorator, ast.Call) else None
                    if (
                        call
                        and isinstance(call.func, ast.Attribute)
                        and call.func.attr in _METHODS
                        and call.args
                        and isinstance(call.args[0], ast.Constant)
                    ):
                        path = str(call.args[0].value)
                        found.append((call.func.attr.upper(), f"/api/v1/{self.name}{path}"))
        return found

    @cached_property
    def seams(self) -> list[str]:
        """The `CORE_SEAMS` its manifest fills: keywords of the `Manifest(...)` in its manifest.py."""
        tree = self._tree("manifest")
        if tree is None:
            return []
        return sorted(
            {
                str(keyword.arg)
                for node in ast.walk(tree)
                if isinstance(node, ast.Call) and ast.unparse(node.func) == "Manifest"
                for keyword in node.keywords
                if keyword.arg in CORE_SEAMS
            }
        )

    @cached_property
    def tables(self) -> list[str]:
        tree = self._tree("models")
        return declared_tables(tree) if tree else []

    @cached_property
    def foreign_keys(self) -> list[tuple[str, str]]:
        """(`<rows>.owner_id`, `<owners>.id`): each column of its models and the column it references."""
        tree = self._tree("models")
        return declared_foreign_keys(tree) if tree else []

    @cached_property
    def listeners(self) -> list[Listener]:
        tree = self._tree("listeners")
        if tree is None:
            return []
        publishers = {
            alias.asname or alias.name: Import(Path(), 0, node.module or "", ()).module
            for node in tree.body
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
        found = []
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                for decorator in node.decorator_list:
                    if (
                        isinstance(decorator, ast.Call)
                        and ast.unparse(decorator.func) == "listener"
                        and decorator.args
                        and isinstance(decorator.args[0], ast.Name)
                    ):
                        event = decorator.args[0].id
                        found.append(Listener(node.name, event, publishers.get(event)))
        return found

    @cached_property
    def jobs(self) -> list[str]:
        """The kinds `jobs.py` registers (`@handler("kind")`, or a constant defined in the module)."""
        tree = self._tree("jobs")
        if tree is None:
            return []
        constants = self._string_constants()
        kinds = []
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                for decorator in node.decorator_list:
                    if isinstance(decorator, ast.Call) and ast.unparse(decorator.func) == "handler":
                        argument = decorator.args[0]
                        if isinstance(argument, ast.Constant):
                            kinds.append(str(argument.value))
                        elif isinstance(argument, ast.Name) and argument.id in constants:
                            kinds.append(constants[argument.id])
        return kinds

    def _string_constants(self) -> dict[str, str]:
        constants: dict[str, str] = {}
        for path in sorted(self.folder.rglob("*.py")):
            for node in ast.parse(path.read_text()).body:
                if (
                    isinstance(node, ast.Assign)
                    and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name)
                    and isinstance(node.value, ast.Constant)
                    and isinstance(node.value.value, str)
                ):
                    constants.setdefault(node.targets[0].id, node.value.value)
        return constants


def _is_table(node: ast.ClassDef) -> bool:
    return any(keyword.arg == "table" and ast.unparse(keyword.value) == "True" for keyword in node.keywords)


def _table_of(node: ast.ClassDef) -> str:
    """Its `__tablename__`, or the name core.naming derives from the class name."""
    explicit = [
        statement.value.value
        for statement in node.body
        if isinstance(statement, ast.Assign)
        and ast.unparse(statement.targets[0]) == "__tablename__"
        and isinstance(statement.value, ast.Constant)
    ]
    return str(explicit[0]) if explicit else table_name(node.name)


def declared_tables(tree: ast.Module) -> list[str]:
    """The tables a models file declares: its `table=True` classes, by `__tablename__` or by rule."""
    return [_table_of(node) for node in tree.body if isinstance(node, ast.ClassDef) and _is_table(node)]


def _references(value: ast.expr) -> Iterator[str]:
    """The string foreign keys in a field's definition: `Field(foreign_key="<owners>.id")`, or
    `ForeignKey("<owners>.id")` inside an `sa_column`."""
    for call in ast.walk(value):
        if not isinstance(call, ast.Call):
            continue
        for keyword in call.keywords:
            if keyword.arg == "foreign_key" and isinstance(keyword.value, ast.Constant):
                yield str(keyword.value.value)
        named = ast.unparse(call.func).split(".")[-1] == "ForeignKey"
        if named and call.args and isinstance(call.args[0], ast.Constant):
            yield str(call.args[0].value)


def declared_foreign_keys(tree: ast.Module) -> list[tuple[str, str]]:
    """(`<rows>.owner_id`, `<owners>.id`) for every foreign key a models file declares. A column of a
    class that is no table (a base its tables share) is named by the class."""
    found = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            holder = _table_of(node) if _is_table(node) else node.name
            for statement in node.body:
                if (
                    isinstance(statement, ast.AnnAssign)
                    and isinstance(statement.target, ast.Name)
                    and statement.value is not None
                ):
                    column = f"{holder}.{statement.target.id}"
                    found += [(column, target) for target in _references(statement.value)]
    return found


def top_level_names(tree: ast.Module) -> list[str]:
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(ast.unparse(target) == "__all__" for target in node.targets):
            return [str(item.value) for item in ast.walk(node.value) if isinstance(item, ast.Constant)]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [target.id for target in node.targets if isinstance(target, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
        elif isinstance(node, ast.ImportFrom | ast.Import):
            names += [alias.asname or alias.name.split(".")[0] for alias in node.names]
    return [name for name in names if not name.startswith("_")]


def _package_of(path: Path, root: Path) -> list[str]:
    """`modules/<name>/service.py` -> ["modules", "<name>"]: the package a relative import starts in."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return parts if path.name == "__init__.py" else parts[:-1]


def imports_of(path: Path, root: Path) -> Iterator[Import]:
    """Every import in the file, lazy ones and those for type checking included."""
    relative = path.relative_to(root)
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(relative, node.lineno, alias.name, ())
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = _package_of(path, root)
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            names = tuple(alias.name for alias in node.names)
            # `from modules.<name> import api` imports the part `api`, not the package.
            parts = [name for name in names if (root / Path(*target.split(".")) / f"{name}.py").exists()]
            for name in parts:
                yield Import(relative, node.lineno, f"{target}.{name}", (name,))
            rest = tuple(name for name in names if name not in parts)
            if rest or not names:
                yield Import(relative, node.lineno, target, rest)


@dataclass
class ModuleMap:
    root: Path
    modules: dict[str, Module]
    core_imports: list[Import]  # imports of `modules` anywhere in core

    @classmethod
    def read(cls, root: Path) -> "ModuleMap":
        folder = root / PACKAGE
        names = sorted(
            path.name for path in folder.iterdir() if path.is_dir() and (path / "__init__.py").exists()
        )
        modules = {name: Module(name, root) for name in names}
        for name, module in modules.items():
            for path in sorted(module.folder.rglob("*.py")):
                module.imports += [
                    found
                    for found in imports_of(path, root)
                    if found.target.split(".")[0] == PACKAGE and found.module != name
                ]
        owners = {table: name for name, module in modules.items() for table in module.tables}
        for name, module in modules.items():
            links = {Dependency(str(found.module), Kind.IMPORT, found.target) for found in module.imports}
            for column, target in module.foreign_keys:
                owner = owners.get(target.split(".")[0])
                if owner is not None and owner != name:
                    links.add(Dependency(owner, Kind.TABLE, f"{column} → {target}"))
            module.links = sorted(link for link in links if link.module in modules)
        core_imports = [
            found
            for path in sorted((root / "core").rglob("*.py"))
            for found in imports_of(path, root)
            if found.target.split(".")[0] == PACKAGE
        ]
        return cls(root, modules, core_imports)

    def closure(self, names: list[str]) -> list[str]:
        """The modules named and every module they depend on, directly or not."""
        seen: set[str] = set()
        pending = [name for name in names if name in self.modules]
        while pending:
            name = pending.pop()
            if name not in seen:
                seen.add(name)
                pending += sorted(self.modules[name].dependencies)
        return sorted(seen)

    def slice(self, names: list[str]) -> list[str]:
        """What an app of only these modules mounts: their closure, and what core itself stands on
        (`CORE_SEAMS`) with its own closure."""
        return self.closure([*names, *(name for name, module in self.modules.items() if module.seams)])

    def dependents(self, name: str) -> list[str]:
        """The modules that depend on `name`, directly or not, for any reason."""
        return sorted(other for other in self.modules if other != name and name in self.closure([other]))

    def used_by(self, name: str) -> list[Dependency]:
        """Why each module that depends on `name` directly does: its links to `name`, as
        `Dependency(<the dependent>, kind, detail)`."""
        return [
            Dependency(other, link.kind, link.detail)
            for other, module in self.modules.items()
            for link in module.links
            if link.module == name
        ]
