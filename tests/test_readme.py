"""The README's promises: its code snippet runs, and it opens with the two set-up commands."""

import re
from pathlib import Path

README = Path(__file__).parents[1] / "README.md"


def snippet(name: str) -> str:
    text = README.read_text()
    match = re.search(rf"<!-- readme-snippet: {name} -->\n```python\n(.*?)```", text, re.S)
    assert match, f"snippet {name} not found"
    return match.group(1)


def test_elbo_loss_snippet_runs_and_is_short(capsys):
    code = snippet("elbo-loss")
    assert len([line for line in code.splitlines() if line.strip()]) < 15
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert printed.startswith("ELBO ") and "rate" in printed


def test_readme_opens_with_the_two_commands():
    first_block = README.read_text().split("```")[1]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()[1:] if line]
    assert commands == ["make run", "make test"]
