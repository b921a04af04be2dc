"""The repository's promises to a new user: the README's commands are the ones CI runs."""

import re
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]


def readme_commands():
    block = re.search(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_readme_first_screen_has_setup_plus_main_job_and_setup_plus_tests():
    commands = readme_commands()
    assert len(commands) == 2
    assert commands[0].startswith("bash scripts/setup_env.sh && ") and "scripts/train.py" in commands[0]
    assert commands[1].startswith("bash scripts/setup_env.sh && ") and "pytest" in commands[1]


def test_ci_runs_exactly_the_readme_test_command():
    ci_lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    assert readme_commands()[1] in ci_lines


def test_every_referenced_config_and_script_exists():
    command = readme_commands()[0]
    for path in re.findall(r"(?:scripts|configs)/[\w./-]+", command):
        assert (ROOT / path).exists(), path
