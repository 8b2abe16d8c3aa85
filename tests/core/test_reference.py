"""The reference pages (core/modulith/reference.py) say what the code says: every setting is
described where it is declared, as pydantic reads it; every metric the app serves is listed with
its labels and the help it is served with; a page goes stale, by name, when the code under it
changes; a module's own page is drawn from the project's files. (Error codes:
tests/core/test_errors.py; that every page is current: tests/core/test_modulith.py.)"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY
from prometheus_client.metrics import MetricWrapperBase

from core import discovery
from core.config import Settings
from core.modulith import document, reference
from core.modulith.declarations import commands, metrics, setting_classes
from tests.helpers import ROOT

# A row of the metrics page: its sample names, type and labels.
METRIC_ROW = re.compile(r"^\| (`[^|]+`) \| (\w+) \| ([^|]+) \| ", re.MULTILINE)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The code the pages are drawn from, and the pages, to change."""
    for folder in ("core", "modules", "docs"):
        shutil.copytree(
            ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__", "*.png")
        )
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    return tmp_path


def run_document(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "core.modulith", "document", *args],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        check=False,
    )


def undescribed(root: Path) -> list[str]:
    return [
        f"{section.source}: {setting.name}"
        for section in setting_classes(root)
        for setting in section.items
        if not setting.description
    ]


def test_every_setting_is_described_where_it_is_declared() -> None:
    assert undescribed(ROOT) == [], "give each a docstring: the string under the field"


def test_a_setting_without_a_docstring_is_found(project: Path) -> None:
    settings = project / "modules/users/settings.py"
    settings.write_text(f"{settings.read_text()}    PLANTED_SETTING: int = 1\n")

    assert undescribed(project) == ["modules/users/settings.py: PLANTED_SETTING"]


def test_the_page_has_each_setting_pydantic_reads_under_its_environment_name() -> None:
    """Named as the field is (no alias, no prefix), described as pydantic describes it."""
    classes = [Settings, *discovery.settings_sections()]
    declared = {
        section.name: {setting.name: setting.description for setting in section.items}
        for section in setting_classes(ROOT)
    }

    assert set(declared) == {kind.__name__ for kind in classes}
    for kind in classes:
        assert kind.model_config.get("env_prefix", "") == "", kind
        assert [
            name for name, field in kind.model_fields.items() if field.alias or field.validation_alias
        ] == []
        assert declared[kind.__name__] == {
            name: field.description for name, field in kind.model_fields.items()
        }


def test_a_setting_has_an_anchor_of_its_lowercased_name() -> None:
    page = (ROOT / reference.SETTINGS).read_text()

    assert "\n### JOBS_LEASE_SECONDS\n" in page
    assert (
        "[`MAX_REQUEST_BODY_BYTES`](settings.md#max_request_body_bytes)"
        in (ROOT / reference.ERRORS).read_text()
    )


def test_a_changed_setting_docstring_makes_the_check_name_the_stale_page(project: Path) -> None:
    config = project / "core/config.py"
    first = setting_classes(project)[0].items[0].description.splitlines()[0]
    assert run_document(project, "--check").returncode == 0

    config.write_text(config.read_text().replace(f'"""{first}', f'"""Planted. {first}', 1))
    check = run_document(project, "--check")

    assert (check.returncode, check.stdout) == (1, "docs/reference/settings.md is stale: run make modules\n")
    assert run_document(project).stdout == "wrote docs/reference/settings.md\n"
    assert run_document(project, "--check").returncode == 0


def test_a_new_make_target_joins_the_commands_page(project: Path) -> None:
    makefile = project / "Makefile"
    makefile.write_text(
        f"{makefile.read_text()}\n# Why it is there.\nplanted: install  ## Do a planted thing\n"
    )

    assert document.stale(project) == [reference.COMMANDS]
    assert document.write(project) == [reference.COMMANDS]
    page = (project / reference.COMMANDS).read_text()
    assert page.endswith("\n## make planted\n\nDo a planted thing.\n\nWhy it is there.\n")


def served_metrics() -> set[MetricWrapperBase]:
    """The metrics of this process's registry, by way of its index from each sample name
    (`_total`, `_bucket`) to its metric: prometheus_client offers no public one."""
    return {
        metric for metric in REGISTRY._names_to_collectors.values() if isinstance(metric, MetricWrapperBase)
    }


def test_the_metrics_page_lists_exactly_the_metrics_the_app_serves_with_their_labels(app: FastAPI) -> None:
    """The app has imported every module's metrics. Each sample name the page lists is served,
    by a metric of that type and those labels, and every metric served has a row."""
    page = (ROOT / reference.METRICS).read_text()
    listed = {
        name.strip("`"): (
            kind,
            [] if labels == "none" else [label.strip("`") for label in labels.split(", ")],
        )
        for names, kind, labels in METRIC_ROW.findall(page)
        for name in names.split(", ")
    }
    served = REGISTRY._names_to_collectors

    assert [name for name in listed if name not in served] == []
    assert sorted({served[name]._name for name in listed}) == sorted(
        metric._name for metric in served_metrics()
    )
    for name, (kind, labels) in listed.items():
        assert (kind, labels) == (served[name]._type, list(served[name]._labelnames)), name


def test_a_metric_is_described_by_the_help_it_is_served_with(app: FastAPI) -> None:
    assert {metric.name: metric.description for metric in metrics(ROOT)} == {
        metric._name: metric._documentation for metric in served_metrics()
    }


def test_a_modules_new_metric_joins_the_metrics_page_by_the_name_scraped(project: Path) -> None:
    """A counter's samples end in `_total`, whether or not the name given does."""
    (project / "modules/users/metrics.py").write_text(
        "from prometheus_client import Counter as Tally\n\n"
        'SIGN_UPS = Tally("sign_ups", "Sign-ups", ["plan"])\n'
    )

    assert document.stale(project) == [reference.METRICS]
    assert document.write(project) == [reference.METRICS]
    page = (project / reference.METRICS).read_text()
    assert page.endswith(
        "\n## modules/users/metrics.py\n\n| metric | type | labels | what |\n|---|---|---|---|\n"
        "| `sign_ups_total` | counter | `plan` | Sign-ups. |\n"
    )


def test_a_metric_named_by_what_the_source_cannot_say_is_refused_by_its_line(project: Path) -> None:
    (project / "modules/users/metrics.py").write_text(
        'import os\n\nfrom prometheus_client import Gauge\n\nUP = Gauge(os.environ["NAME"], "Up")\n'
    )

    with pytest.raises(ValueError, match=r"^modules/users/metrics.py:5: "):
        metrics(project)


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_the_commands_are_those_make_help_lists() -> None:
    listed = subprocess.run(
        ["make", "--no-print-directory", "help"], cwd=ROOT, capture_output=True, text=True
    )

    assert [command.name for command in commands(ROOT)] == [
        line.split()[1] for line in listed.stdout.splitlines()
    ]


def test_a_modules_reference_py_draws_pages_into_its_folder(project: Path) -> None:
    """Loaded from the project's own folder: this one exists in the copy alone."""
    (project / "modules/users/reference.py").write_text(
        'def pages():\n    return {"planted.md": "# Planted\\n"}\n'
    )

    drawn = reference.module_pages(project)["modules/users/planted.md"]

    assert drawn == f"{reference.generated('modules/users/reference.py')}\n# Planted\n"
    assert "modules/users/planted.md" in document.stale(project)


def test_a_module_page_is_a_plain_markdown_file_name(project: Path) -> None:
    (project / "modules/users/reference.py").write_text('def pages():\n    return {"../README.md": ""}\n')

    with pytest.raises(ValueError, match="README"):
        reference.module_pages(project)


def test_every_page_drawn_starts_by_saying_so() -> None:
    drawn = document.pages(ROOT)

    assert [path for path, text in drawn.items() if not text.startswith("<!-- Generated from ")] == []
