"""The Python examples of the README and of the docs pages below run as written, so the docs cannot rot."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"
# docs pages whose ```python blocks are runnable examples; a page that adds one joins this list
DOCS_WITH_EXAMPLES = ["docs/listening-tests.md", "docs/nir.md"]


def python_blocks(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)


EXAMPLES = python_blocks(README)
DOCS_EXAMPLES = [(name, i, block) for name in DOCS_WITH_EXAMPLES for i, block in enumerate(python_blocks(ROOT / name))]


def test_the_readme_has_python_examples():
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_readme_example_runs(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(EXAMPLES[index], f"README example {index}", "exec"), {})


@pytest.mark.parametrize(("name", "index", "block"), DOCS_EXAMPLES, ids=[f"{n}:{i}" for n, i, _ in DOCS_EXAMPLES])
def test_docs_example_runs(name, index, block, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(block, f"{name} example {index}", "exec"), {})


def test_every_listed_docs_page_has_an_example():
    assert all(python_blocks(ROOT / name) for name in DOCS_WITH_EXAMPLES)


def test_the_readme_names_the_commands_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci and "make test" in README.read_text() and "make demo" in README.read_text()
