"""Edits of the copied module, found by its syntax tree: new fields, and reference data."""

import ast
import re

from scaffold.fields import FieldSpec
from scaffold.names import EXAMPLE, TEMPLATES, Names, ScaffoldError, rename


def _stale(path: str, what: str) -> ScaffoldError:
    # The example module changed in a way the edits below do not know: say where.
    return ScaffoldError(f"{path}: {what}; the example changed shape and the scaffold needs updating")


class Source:
    """A Python file edited by its syntax tree: statements are found by structure, not by text."""

    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path

    def tree(self) -> ast.Module:
        return ast.parse(self.text)

    def node(self, kind: type[ast.AST], name: str) -> ast.ClassDef | ast.FunctionDef:
        for node in self.tree().body:
            if isinstance(node, kind) and getattr(node, "name", None) == name:
                assert isinstance(node, ast.ClassDef | ast.FunctionDef)
                return node
        raise _stale(self.path, f"no {name}")

    def replace(self, first: ast.stmt, last: ast.stmt, new: str, *, with_comments: bool = True) -> None:
        """Replace the statements `first`..`last` (and the comment lines just above) with `new`."""
        lines = self.text.splitlines(keepends=True)
        start, end = first.lineno - 1, (last.end_lineno or last.lineno)
        while with_comments and start > 0 and lines[start - 1].strip().startswith("#"):
            start -= 1
        indent = " " * first.col_offset
        block = "".join(f"{indent}{line}\n" if line else "\n" for line in new.splitlines())
        self.text = "".join([*lines[:start], block, *lines[end:]])

    def replace_body(self, name: str, new: str) -> None:
        node = self.node(ast.ClassDef, name)
        body = [s for s in node.body if not _is_docstring(s)] or node.body
        self.replace(body[0], body[-1], new)

    def insert_first(self, class_name: str, new: str) -> None:
        node = self.node(ast.ClassDef, class_name)
        if len(node.body) == 1 and ast.unparse(node.body[0]) == "pass":
            self.replace(node.body[0], node.body[0], new)
            return
        lines = self.text.splitlines(keepends=True)
        indent = " " * node.body[0].col_offset
        self.text = "".join([*lines[: node.lineno], f"{indent}{new}\n", *lines[node.lineno :]])

    def remove_field(self, class_name: str, field: str) -> None:
        node = self.node(ast.ClassDef, class_name)
        for statement in node.body:
            if isinstance(statement, ast.AnnAssign) and ast.unparse(statement.target) == field:
                rest = [s for s in node.body if s is not statement]
                self.replace(statement, statement, "" if rest else "pass")
                return
        raise _stale(self.path, f"{class_name} has no {field}")

    def sub(self, pattern: str, new: str) -> None:
        """A textual edit that must apply exactly once, or the example has changed shape."""
        self.text, count = re.subn(pattern, new, self.text)
        if count != 1:
            raise _stale(self.path, f"{pattern!r} matched {count} times")

    def add_imports(self, *lines: str) -> None:
        """Add imports after the last one; ruff sorts them and drops those no longer used."""
        existing = self.text.splitlines(keepends=True)
        wanted = [f"{line}\n" for line in lines if f"{line}\n" not in existing]
        imports = [s for s in self.tree().body if isinstance(s, ast.Import | ast.ImportFrom)]
        end = imports[-1].end_lineno or imports[-1].lineno
        self.text = "".join([*existing[:end], *wanted, *existing[end:]])


def _is_docstring(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)


def edit_fields(files: dict[str, Source], names: Names, specs: list[FieldSpec]) -> None:
    entity, var = names.pascal, names.singular
    models, schemas, service = files["models.py"], files["schemas.py"], files["service.py"]
    models.replace_body(f"{entity}Base", "\n".join(spec.model_line() for spec in specs))
    models.add_imports(
        *(["import uuid"] if any(s.kind == "uuid" for s in specs) else []),
        *(["from datetime import date"] if any(s.kind == "date" for s in specs) else []),
        *(["from datetime import datetime"] if any(s.kind == "datetime" for s in specs) else []),
        *(["from decimal import Decimal"] if any(s.kind == "decimal" for s in specs) else []),
        *(["from sqlalchemy import Text"] if any(s.kind == "text" for s in specs) else []),
        *(["from core.db import UTCDateTime"] if any(s.kind == "datetime" for s in specs) else []),
    )
    schemas.replace_body(f"{entity}Update", "\n".join(spec.update_line() for spec in specs))
    schemas.add_imports(
        *(["from datetime import date"] if any(s.kind == "date" for s in specs) else []),
        *(["from decimal import Decimal"] if any(s.kind == "decimal" for s in specs) else []),
    )
    searchable = [s for s in specs if s.searchable]
    query = []
    if searchable:
        description = f"Text to find in the {searchable[0].name}"
        query.append(f'q: str | None = Field(default=None, max_length=200, description="{description}")')
    query += [
        f"{s.name}: {s.python_type.removesuffix(' | None')} | None = None" for s in specs if s.filterable
    ]
    sorts = ["created_at", *(s.name for s in specs if s.sortable)]
    choices = ", ".join(f'"{sign}{name}"' for name in sorts for sign in ("", "-"))
    query.append(f'sort: Literal[{choices}] = "-created_at"')
    schemas.replace_body(f"{entity}Query", "\n".join(query))

    listing = service.node(ast.FunctionDef, f"list_{names.plural}")
    old_filters = [
        s
        for s in listing.body
        if isinstance(s, ast.If)
        and any(isinstance(n, ast.Name) and n.id == "query" for n in ast.walk(s.test))
    ]
    if not old_filters:
        raise _stale(service.path, f"list_{names.plural} has no query filters")
    new_filters = []
    if searchable:
        new_filters.append(
            f"if query.q:\n"
            f"    filters.append(col({entity}.{searchable[0].name}).icontains(query.q, autoescape=True))"
        )
    new_filters += [
        f"if query.{s.name} is not None:\n    filters.append(col({entity}.{s.name}) == query.{s.name})"
        for s in specs
        if s.filterable
    ]
    service.replace(old_filters[0], old_filters[-1], "\n".join(new_filters), with_comments=False)

    update = service.node(ast.FunctionDef, f"update_{var}")
    changes = [s for s in update.body if isinstance(s, ast.Assign) and ast.unparse(s.targets[0]) == "changes"]
    if not changes:
        raise _stale(service.path, f"update_{var} has no `changes`")
    nullable = sorted(s.name for s in specs if s.optional)
    keep = f" or k in {{{', '.join(repr(n) for n in nullable)}}}" if nullable else ""
    service.replace(
        changes[0],
        changes[0],
        '# A null for a field that cannot be null means "leave it".\n'
        f"changes = {{\n    k: v\n    for k, v in {var}_in.model_dump(exclude_unset=True).items()\n"
        f"    if v is not None{keep}\n}}",
    )
    unique = [s.name for s in specs if s.unique]
    if unique:
        _commit_or_conflict(service, names, unique)


def _commit_or_conflict(service: Source, names: Names, unique: list[str]) -> None:
    """A duplicate of a unique field is a 409 the client can fix, not a database error."""
    for function in (f"create_{names.singular}", f"update_{names.singular}"):
        node = service.node(ast.FunctionDef, function)
        commits = [s for s in node.body if ast.unparse(s) == "session.commit()"]
        if len(commits) != 1:
            raise _stale(service.path, f"{function} does not commit once")
        service.replace(commits[0], commits[0], "_commit_or_conflict(session)", with_comments=False)
    fields = " or ".join(unique)
    service.text += f'''

def _commit_or_conflict(session: Session) -> None:
    """Commit; a duplicate of a unique field is the client's conflict (409), not a server error."""
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise ConflictError("{names.prose.capitalize()} with the same {fields} already exists") from exc
'''
    service.add_imports("from sqlalchemy.exc import IntegrityError", "from core.errors import ConflictError")


def edit_shared(files: dict[str, Source], names: Names) -> None:
    """Reference data: no owner column, readable by every signed-in user, written by superusers."""
    entity = names.pascal
    files["models.py"].remove_field(entity, "owner_id")
    files["schemas.py"].remove_field(f"{entity}Read", "owner_id")
    service = files["service.py"]
    service.sub(r", owner_id: uuid\.UUID(?=, )", "")
    service.sub(r", update=\{\"owner_id\": owner_id\}", "")
    service.sub(r", owner_id: uuid\.UUID \| None(?=, )", "")
    service.sub(r" `owner_id=None` lists everyone's\.", "")
    listing = service.node(ast.FunctionDef, f"list_{names.plural}")
    owner_filter = [s for s in listing.body if isinstance(s, ast.If) and "owner_id" in ast.unparse(s.test)]
    if len(owner_filter) != 1:
        raise _stale(service.path, f"no owner filter in list_{names.plural}")
    service.replace(owner_filter[0], owner_filter[0], "", with_comments=False)
    for part in ("router.py", "dependencies.py"):
        files[part].text = rename((TEMPLATES / f"shared_{part}.tmpl").read_text(), EXAMPLE, names)
