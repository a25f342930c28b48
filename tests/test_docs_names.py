"""The manuals name what exists: every module, attribute and source file a docs page names in backticks, and every
list of the serving layers (`router <- cache <- ...`), match the code (issue 27)."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
from pathlib import Path

import pytest

from tests.helpers import ROOT

PAGES = sorted([*(ROOT / "docs").glob("*.md"), ROOT / "README.md"])
PACKAGES = ("peptalk", "router", "evaluation", "loadtest", "langserve_app", "tests", "examples", "bench")
DOTTED = re.compile(rf"`((?:{'|'.join(PACKAGES)})(?:\.[A-Za-z_][A-Za-z0-9_]*)+)(?:\(\))?`")
SOURCE = re.compile(rf"`((?:{'|'.join(PACKAGES)})/[A-Za-z0-9_./*-]+\.(?:py|yaml|txt|toml|json))`")
LAYER_LIST = re.compile(r"`?(router(?:\s*<-\s*[a-z_]+)+|[a-z_]+(?:\s*->\s*[a-z_]+)+\s*->\s*router)`?")


def _resolves(dotted: str) -> bool:
    """Whether `dotted` is a module, or an attribute (chain) of the longest module it starts with; the pages also
    call a `PepTalk` object `peptalk` (`peptalk.invoke`)."""
    parts = dotted.split(".")
    if parts[0] == "peptalk" and len(parts) == 2:
        from peptalk.service import PepTalk

        if hasattr(PepTalk, parts[1]):
            return True
    for split in range(len(parts), 0, -1):
        module_name = ".".join(parts[:split])
        try:
            found = importlib.util.find_spec(module_name) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            continue
        value: object = importlib.import_module(module_name)
        for attribute in parts[split:]:
            if not hasattr(value, attribute):
                return False
            value = getattr(value, attribute)
        return True
    return False


def _stack_layers() -> list[str]:
    """The built layers' names, bottom-up, as `peptalk.stack.LAYERS`' factories name them."""
    from peptalk.stack import LAYERS

    names = []
    for factory in LAYERS:
        found = re.search(r'Layer\("([a-z_]+)"', inspect.getsource(factory))
        assert found, f"{factory.__name__} builds no named Layer"
        names.append(found.group(1))
    return names


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_module_and_file_a_page_names_exists(page: Path) -> None:
    text = page.read_text()
    missing = [name for name in sorted(set(DOTTED.findall(text)))
               if not name.endswith((".py", ".md", ".txt", ".yaml")) and not _resolves(name)]
    missing += [path for path in sorted(set(SOURCE.findall(text)))
                if not (list(ROOT.glob(path)) if "*" in path else (ROOT / path).exists())]
    assert missing == [], f"{page.name} names what does not exist: {missing}"


@pytest.mark.parametrize("page", [*PAGES, ROOT / "peptalk" / "service.py", ROOT / "peptalk" / "stack.py",
                                  ROOT / "peptalk" / "fast_path.py"], ids=lambda page: page.name)
def test_every_list_of_the_serving_layers_is_the_stacks(page: Path) -> None:
    bottom_up = ["router", *_stack_layers()]
    for listed in LAYER_LIST.findall(page.read_text()):
        names = [name.strip() for name in re.split(r"<-|->", listed)]
        names = names if "<-" in listed else names[::-1]
        assert names == bottom_up, f"{page.name} lists the layers as {listed!r}; the stack is {bottom_up}"


def test_the_layer_list_check_finds_the_lists() -> None:
    """The check above is not vacuous: the plugin manual and the service's docstring list the layers."""
    assert LAYER_LIST.search((ROOT / "docs" / "plugin.md").read_text())
    assert LAYER_LIST.search((ROOT / "peptalk" / "service.py").read_text())
    assert not _resolves("peptalk.no_such_module") and not _resolves("peptalk.stack.NO_SUCH_NAME")
