"""The package's shape: the model root stands alone (it is what remote code copies), the toolkit sits on top of it,
and the scripts sit on top of the toolkit."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "modeling_sllm"
TOOLKIT = ("cli", "data", "training", "evaluation", "publishing", "benchmarks", "demo", "inference")
MODEL_FILES = ("configuration_sllm", "modeling_sllm", "video_processing_sllm")


def _modules_loaded_by(statement: str) -> list[str]:
    """Runs `statement` in a fresh interpreter and returns the `modeling_sllm` modules it loaded."""
    code = (
        f"import json, sys\n{statement}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('modeling_sllm'))))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"HF_HUB_OFFLINE": "1", "PATH": ""},
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "statement", ["import modeling_sllm"] + [f"import modeling_sllm.{name}" for name in MODEL_FILES]
)
def test_importing_the_model_loads_no_toolkit_module(statement):
    loaded = _modules_loaded_by(statement)
    toolkit = [name for name in loaded if name.split(".")[1:2] and name.split(".")[1] in TOOLKIT]
    assert toolkit == [], f"`{statement}` loaded toolkit modules: {toolkit}"


def _relative_imports(path: Path) -> set[str]:
    """Modules a file imports relatively (`from .x import y` -> `x`), as transformers' remote-code copy follows
    them."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_remote_code_closure_stays_in_the_root_and_never_imports_the_toolkit_absolutely():
    """What `save_pretrained` copies for trust_remote_code (the model files and their relative imports, recursively)
    are root files only, and none of them imports `modeling_sllm.<anything>` absolutely (which would fail on the
    Hub)."""
    todo, seen = list(MODEL_FILES), set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = PACKAGE / f"{name}.py"
        assert path.is_file(), f"remote code needs {path}, which is not a root file"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                assert node.module.split(".")[0] != "modeling_sllm", f"{name} imports {node.module} absolutely"
            if isinstance(node, ast.Import):
                assert all(alias.name.split(".")[0] != "modeling_sllm" for alias in node.names), name
        todo.extend(_relative_imports(path))
    assert seen >= set(MODEL_FILES)


def test_only_the_benchmarks_import_the_training_package():
    """Every script parses its arguments with `cli/`; evaluation, inference, publishing, data and the demo stand
    beside training, not on it (the benchmarks time training, so they run it)."""
    for name in TOOLKIT:
        if name in ("training", "benchmarks"):
            continue
        for path in (PACKAGE / name).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module:
                    package = ("", f"modeling_sllm.{name}.", "modeling_sllm.")[node.level]  # absolute, `.x`, `..x`
                    module = package + node.module
                    assert not module.startswith("modeling_sllm.training"), f"{path} imports {module}"


def test_nothing_in_the_package_imports_the_scripts_or_edits_sys_path():
    for path in list(PACKAGE.rglob("*.py")) + list((ROOT / "scripts").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        assert "sys.path" not in source, f"{path} edits sys.path"
        assert "spec_from_file_location" not in source, f"{path} loads a file by path"
        assert "sys.modules[" not in source, f"{path} replaces a module"
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("scripts"), f"{path} imports {node.module}"


def test_scripts_are_thin_entry_points_installed_as_console_scripts():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    entry_points = set(project["scripts"].values())
    for script in (ROOT / "scripts").glob("*.py"):
        tree = ast.parse(script.read_text(encoding="utf-8"))
        functions = [node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
        assert functions == [], (
            f"{script.name} defines {[node.name for node in functions]}: logic belongs in the package"
        )
        imports = [node for node in tree.body if isinstance(node, ast.ImportFrom)]
        assert len(imports) == 1 and imports[0].module.startswith("modeling_sllm."), script.name
        target = f"{imports[0].module}:{imports[0].names[0].name}"
        assert target in entry_points, f"{script.name} runs {target}, which is no console script in pyproject.toml"


def test_no_script_shadows_a_library_it_uses():
    for script in (ROOT / "scripts").glob("*.py"):
        assert script.stem not in {"evaluate", "datasets", "transformers", "accelerate", "torch", "av"}, script.name


def test_every_package_module_stays_readable_in_size():
    """No file over ~500 lines unless its first lines say why."""
    for path in PACKAGE.rglob("*.py"):
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) > 550:
            head = "\n".join(lines[:6]).lower()
            assert "longer than" in head or "one file because" in head, f"{path} has {len(lines)} lines"


def test_the_code_passes_flake8():
    """The style setup.cfg declares (119 columns, black-style slices) holds for the package, scripts and tests."""
    folders = [name for name in ("modeling_sllm", "scripts", "tests", "hub_cards") if (ROOT / name).is_dir()]
    result = subprocess.run([sys.executable, "-m", "flake8", *folders], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0 and not result.stdout, result.stdout + result.stderr
