"""The code examples of README.md and of the public API's docstrings, as blocks to run.

``tests/test_readme.py`` runs them; ``.ci/run`` runs the blocks marked ``ci`` (the Quickstart's
install commands, which need the package index) verbatim in a fresh copy of the checkout::

    python tests/readme_examples.py --ci     # their sources, each followed by a NUL byte

Markdown is parsed with markdown-it-py (CommonMark, the parser rich is built on): every fenced
block with its info string (``python``, ``bash``), the nearest heading before it and the
``<!-- readme-test: KEYWORD ARGUMENT -->`` comment right before it, if any (``ci``,
``pytest-file``, ``smoke-args ARGS``). Docstrings hold reST literal blocks (``::`` then an
indented block); a block defining ``test_`` functions is a pytest file.

pytest-examples (the obvious library for this) was evaluated and does not fit: it finds only
Python blocks (the README's shell commands are examples too), runs each as a module through
``exec_module`` (no top-level ``await``, which the README's snippets use, only an
``asyncio.run`` of a named function), checks results only as ``#>`` print output, finds
docstring examples only in Markdown fences (this package's docstrings use reST ``::`` blocks),
and brings black along.
"""

from __future__ import annotations

import inspect
import re
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

_MARKER = re.compile(r"^<!--\s*readme-test:\s*(?P<keyword>[\w-]+)\s*(?P<argument>.*?)\s*-->\s*$",
                     re.DOTALL)
_LITERAL = re.compile(r"::\n\n((?:(?:    .*)?\n)+)")
_TEST_FUNCTION = re.compile(r"^(async )?def test_", re.MULTILINE)


@dataclass(frozen=True)
class Block:
    """One code example: where it is, its language and source, and its marker."""

    origin: str  # "README.md:57" (the first line of code) or "productive_async.sandbox"
    section: str  # the heading it is under, or the documented object's name
    language: str  # "python" or "bash"
    source: str
    marker: str = ""  # "", "ci", "pytest-file" or "smoke-args"
    argument: str = ""  # the marker's argument (smoke-args: the arguments to append)

    @property
    def id(self) -> str:
        return f"{self.origin} ({self.section})"


def readme_blocks(path: Path = README) -> list[Block]:
    """Every fenced code block of the Markdown file ``path``, in order."""
    tokens = MarkdownIt("commonmark").parse(path.read_text(encoding="utf-8"))
    blocks: list[Block] = []
    section = ""
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            section = tokens[index + 1].content
        if token.type != "fence":
            continue
        marker = argument = ""
        before = tokens[index - 1] if index else None
        if before is not None and before.type == "html_block":
            match = _MARKER.match(before.content.strip())
            if match:
                marker, argument = match["keyword"], match["argument"]
        assert token.map is not None
        blocks.append(Block(
            origin=f"{path.name}:{token.map[0] + 2}", section=section,
            language=token.info.strip().split(" ")[0], source=token.content,
            marker=marker, argument=argument,
        ))
    return blocks


def docstring_blocks(modules: list[ModuleType]) -> list[Block]:
    """The literal blocks (``::``) in the docstrings of ``modules`` and of their public
    (``__all__``) classes, functions and methods."""
    blocks: list[Block] = []
    seen: set[int] = set()
    for module in modules:
        objects: list[tuple[str, object]] = [(module.__name__, module)]
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            if inspect.ismodule(value):
                continue
            objects.append((f"{module.__name__}.{name}", value))
            if inspect.isclass(value):
                objects.extend((f"{module.__name__}.{name}.{attr}", member)
                               for attr, member in vars(value).items()
                               if not attr.startswith("_") and callable(member))
        for qualname, obj in objects:
            doc = inspect.getdoc(obj)
            if not doc or id(obj) in seen:
                continue
            seen.add(id(obj))
            for match in _LITERAL.finditer(doc + "\n"):
                source = textwrap.dedent(match[1]).strip("\n") + "\n"
                blocks.append(Block(
                    origin=qualname, section=qualname, language="python", source=source,
                    marker="pytest-file" if _TEST_FUNCTION.search(source) else "",
                ))
    return blocks


def doctest_docstrings(modules: list[ModuleType]) -> list[str]:
    """Names of public objects of ``modules`` whose docstrings hold ``>>>`` examples."""
    found = []
    for module in modules:
        for name in ["", *getattr(module, "__all__", ())]:
            obj = getattr(module, name) if name else module
            if ">>>" in (inspect.getdoc(obj) or ""):
                found.append(f"{module.__name__}.{name}".rstrip("."))
    return found


def main(argv: list[str]) -> int:
    if argv != ["--ci"]:
        print("usage: python tests/readme_examples.py --ci", file=sys.stderr)
        return 2
    blocks = [b for b in readme_blocks() if b.marker == "ci"]
    if not blocks:
        print("README.md has no block marked readme-test: ci", file=sys.stderr)
        return 1
    for block in blocks:
        sys.stdout.write(block.source + "\0")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
