"""The house plan (docs/architecture.md) beyond what import-linter checks in ``./dev lint``:
no module inside the package imports the ``fnrun`` facade, and every folder says what it may
import."""

from __future__ import annotations

import ast
from pathlib import Path

import fnrun

PACKAGE = Path(fnrun.__file__).parent
BUNDLED = PACKAGE / "marketplace" / "bundled"  # hub functions: user code, as a user writes it


def _modules() -> list[Path]:
    facade = PACKAGE / "__init__.py"
    return [p for p in PACKAGE.rglob("*.py") if BUNDLED not in p.parents and p != facade]


def facade_imports(source: str) -> list[int]:
    """Lines of ``import fnrun`` / ``from fnrun import ...`` (a submodule path is fine)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Import) and any(a.name == "fnrun" for a in node.names)) or (
            isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == "fnrun"
        ):
            lines.append(node.lineno)
    return lines


def test_the_finder_sees_facade_imports() -> None:
    assert facade_imports("import fnrun\nfrom fnrun import x\nimport fnrun.errors\n") == [1, 2]
    assert facade_imports("def f():\n    from fnrun import y\n") == [2]


def test_no_module_imports_the_facade() -> None:
    found = {
        str(p.relative_to(PACKAGE)): lines
        for p in _modules()
        if (lines := facade_imports(p.read_text()))
    }
    assert found == {}, "import the defining module (fnrun.x.y), not the fnrun facade"


def test_every_folder_says_what_it_may_import() -> None:
    missing = []
    for init in PACKAGE.rglob("__init__.py"):
        if BUNDLED in init.parents or init.parent == PACKAGE:
            continue
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        if "May import" not in doc:
            missing.append(str(init.parent.relative_to(PACKAGE)))
    assert sorted(missing) == []


POD_BUILDER = PACKAGE / "runtimes" / "kubernetes" / "manifests" / "pod.py"


def pod_models(source: str) -> list[int]:
    """Lines that make a pod spec or template with the kubernetes client's models."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute) and node.attr in ("V1PodSpec", "V1PodTemplateSpec")
    ]


def test_one_pod_builder() -> None:
    """Every pod (runs, serving, Kaniko, the service's Deployment) comes from
    ``manifests.pod.pod_template``: a knob added there reaches them all."""
    assert pod_models("c.V1PodSpec(containers=[])\nk.V1PodTemplateSpec()\n") == [1, 2]
    assert pod_models(POD_BUILDER.read_text())
    found = {
        str(p.relative_to(PACKAGE)): lines
        for p in _modules()
        if p != POD_BUILDER and (lines := pod_models(p.read_text()))
    }
    assert found == {}, "build pods with fnrun.runtimes.kubernetes.manifests.pod.pod_template"
