"""One import name, `midifill` (issue 29 item 6): the folders model/, bridge/
and demo/ are the packages midifill.model, midifill.bridge and midifill.demo.
`python -m pytest` puts the repository's root on sys.path, where `import
model` would still find the folder: a second copy of every module, whose
classes fail isinstance against the first. So no file may import them so."""

import ast
import re
from pathlib import Path

from tests.support import ROOT

TOP = {"model", "bridge", "demo"}
FOLDERS = ("model", "bridge", "demo", "tests", "daw_scripts")


def python_files():
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if not {"node_modules", "__pycache__"} & set(path.parts):
                yield path


def top_level_imports(path: Path, root: Path = ROOT) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [
            f"{path.relative_to(root)}:{node.lineno} {name}"
            for name in names
            if name.split(".")[0] in TOP
        ]
    return found


def test_no_file_imports_model_bridge_or_demo_at_the_top_level():
    bad = [hit for path in python_files() for hit in top_level_imports(path)]
    assert bad == [], "import them as midifill.model, midifill.bridge, midifill.demo"


def test_no_command_line_runs_a_module_by_its_folder_name():
    pattern = re.compile(r"""-m["',\s]+(model|bridge|demo)\.\w""")
    texts = [
        *python_files(),
        ROOT / "Makefile",
        ROOT / "README.md",
        *(ROOT / "docs").glob("*.md"),
        *(ROOT / "daw_scripts").rglob("*.lua"),
        *(ROOT / "daw_scripts").rglob("*.js"),
    ]
    bad = [
        f"{p.relative_to(ROOT)}: {m.group(0)}"
        for p in texts
        for m in pattern.finditer(p.read_text(encoding="utf-8"))
    ]
    assert bad == []


def test_the_catch_works_on_a_file_that_imports_model(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text(
        "import os\nfrom model.song import Song\nimport bridge.cli as c\n"
        "from midifill.model import Engine\nfrom . import sibling\n"
    )
    hits = top_level_imports(sample, root=tmp_path)
    assert [h.split(" ", 1)[1] for h in hits] == ["model.song", "bridge.cli"]
