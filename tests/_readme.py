"""The README's user-guide examples, for the tests that run them as written."""

from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_example(heading):
    """The first ```python block under the README heading ``heading`` (e.g. "### Class
    weights"), as source text."""
    text = README.read_text(encoding="utf-8")
    section = text.split(f"\n{heading}\n", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]
