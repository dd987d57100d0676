"""README.md tells the truth: its tour runs as written, its tables match the code.

The tour test takes the one fenced block of README.md that follows the
``<!-- tour: ... -->`` marker, clones this repository's committed HEAD into a scratch
folder (so it tests what a newcomer gets from a fresh clone: commit an edit to the
README before expecting this test to see it) and runs the block's commands there, one
by one and in order, in one bash shell, as a reader pasting them would. ``.venv`` in the
clone is a link to the virtual environment running the tests, and ``PYTHONPATH`` puts the
clone first, so ``painlink`` is the venv's command running the clone's code (checked).
Step 7 starts its own throwaway PostgreSQL server with ``scripts/scratch-postgres``
exactly as the README says, rather than the tests' server fixture.

The other tests read README.md of the working tree: the command table against the
``painlink`` command's real options, the links and paths against the files, the
libraries table against pyproject.toml.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import typer.main

from painlink.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
TOUR_MARKER = "<!-- tour:"
SCRATCH_PG = "/tmp/painlink-scratch-pg."


@dataclass(frozen=True)
class Command:
    """One command of the tour: its text as written and the exit status it promises."""

    number: int
    text: str  # as written, continuation lines included: this is what bash runs
    expected_exit: int  # 0 unless its comment says "# exit N"

    @property
    def line(self) -> str:
        """The command on one line, for messages and for finding it."""
        return re.sub(r"\\\n\s*", "", self.text)


def tour_block(text: str) -> str:
    """The fenced block right after the tour marker (exactly one marker)."""
    assert text.count(TOUR_MARKER) == 1, "README.md must mark exactly one tour block"
    after = text[text.index(TOUR_MARKER) :].split("\n", 1)[1]
    match = re.match(r"```bash\n(.*?)\n```\n", after, re.S)
    assert match, "the tour marker must be followed directly by a ```bash block"
    return match.group(1)


def tour_commands(text: str) -> list[Command]:
    """The tour's commands: non-blank, non-comment lines, continuations joined."""
    commands: list[Command] = []
    pending = ""
    for raw in tour_block(text).splitlines():
        if not pending and (not raw.strip() or raw.lstrip().startswith("#")):
            continue
        pending += raw + "\n"
        if raw.rstrip().endswith("\\"):
            continue
        status = re.search(r"\s#\s*exit (\d+)\b", pending)
        commands.append(
            Command(len(commands) + 1, pending.rstrip("\n"), int(status.group(1)) if status else 0)
        )
        pending = ""
    assert not pending, "the tour block ends inside a continued line"
    return commands


def cli_commands() -> dict[tuple[str, ...], set[str]]:
    """Every leaf command of ``painlink`` with the option names it accepts."""

    def leaves(cmd: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], set[str]]]:
        if hasattr(cmd, "commands"):  # a group (Typer vendors its own click)
            for name, sub in cmd.commands.items():
                yield from leaves(sub, (*path, name))
        else:
            options = {opt for param in cmd.params for opt in param.opts}
            yield path, options | set(cmd.get_help_option_names(cmd.context_class(cmd)))

    return dict(leaves(typer.main.get_command(app), ()))


def command_table(text: str) -> dict[tuple[str, ...], tuple[bool, bool]]:
    """The README's command table: command path → (takes --db, takes --json).

    A first cell such as ``painlink experiment design / analyze`` names two commands,
    ``experiment design`` and ``experiment analyze``.
    """
    rows: dict[tuple[str, ...], tuple[bool, bool]] = {}
    for line in text.splitlines():
        if not line.startswith("| `painlink "):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        marks = {"✓": True, "—": False}
        assert cells[1] in marks and cells[2] in marks, f"--db/--json must be ✓ or —: {line}"
        words: list[str] = []
        for token in cells[0].strip("`").split()[1:]:
            if not re.fullmatch(r"[a-z][a-z-]*|/", token):
                break
            words.append(token)
        alternatives = " ".join(words).split(" / ")
        first = tuple(alternatives[0].split())
        rows[first] = (marks[cells[1]], marks[cells[2]])
        for alt in alternatives[1:]:
            rows[(*first[:-1], alt)] = (marks[cells[1]], marks[cells[2]])
    return rows


def test_tour_block_is_extracted_and_uses_real_commands():
    commands = tour_commands(README.read_text())
    assert commands[0].line.startswith("source .venv/bin/activate")
    # Line continuations are joined into one command, comments are not commands.
    design = [c for c in commands if "experiment design" in c.line]
    assert len(design) == 1 and "--out design.json" in design[0].line
    assert not any(c.line.lstrip().startswith("#") for c in commands)
    assert [c.expected_exit for c in commands if c.expected_exit] == [1]
    # Every painlink subcommand the tour calls exists.
    known = cli_commands()
    for command in commands:
        for call in re.findall(r"\bpainlink ((?:[a-z][a-z-]* ?)+)", command.line):
            words = call.split()
            assert any(words[: len(path)] == list(path) for path in known), command.line


def test_command_table_matches_the_cli():
    """The table lists every command once, and its --db / --json marks are the truth."""
    text = README.read_text()
    table = command_table(text)
    cli = cli_commands()
    assert set(table) == set(cli)
    for path, (takes_db, takes_json) in table.items():
        assert ("--db" in cli[path]) == takes_db, f"painlink {' '.join(path)}: --db"
        assert ("--json" in cli[path]) == takes_json, f"painlink {' '.join(path)}: --json"
        assert "--help" in cli[path], f"painlink {' '.join(path)}: --help"
    # The sentence above the table names the exceptions; it must agree with the CLI.
    flat = " ".join(text.split())
    no_db = re.search(r"take `--db` \(those that use a database: all but (.+?)\)", flat)
    no_json = re.search(r"print JSON with `--json` \((?:all but (.+?)|every one)\)", flat)
    assert no_db and no_json, "the sentence naming the commands without --db/--json changed"
    assert set(re.findall(r"`([a-z ]+)`", no_db.group(1))) == {
        " ".join(p) for p, opts in cli.items() if "--db" not in opts
    }
    assert set(re.findall(r"`([a-z ]+)`", no_json.group(1) or "")) == {
        " ".join(p) for p, opts in cli.items() if "--json" not in opts
    }


def _slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_links_and_paths_exist():
    text = README.read_text()
    links = re.findall(r"\]\(([^)#\s]+)(?:#([^)\s]+))?\)", text)
    local = [(target, anchor) for target, anchor in links if "://" not in target]
    assert len(local) >= 10
    for target, anchor in local:
        path = ROOT / target
        assert path.exists(), f"README links to {target}, which does not exist"
        if anchor:
            headings = re.findall(r"^#+ (.+)$", path.read_text(), re.M)
            assert anchor in {_slug(h) for h in headings}, f"{target}#{anchor}: no such heading"
    paths = [
        path
        for span in re.findall(r"`([^`\n]+)`", text)
        for path in re.findall(
            r"(?<![\w./])((?:painlink|docs|tests|scripts|examples|benchmarks)/[\w./-]*)", span
        )
    ]
    assert "scripts/scratch-postgres" in paths
    for name in paths:
        assert (ROOT / name).exists(), f"README names {name}, which does not exist"
    # The layout block names each top-level package and folder that exists.
    layout = re.search(r"```\npainlink/\n(.*?)```", text, re.S)
    assert layout
    named = set(re.findall(r"^\s{0,2}([\w.]+/?)\s", layout.group(1), re.M))
    packages = {p.name + "/" for p in (ROOT / "painlink").iterdir() if (p / "__init__.py").exists()}
    packages |= {p.name for p in (ROOT / "painlink").glob("*.py") if p.name != "__init__.py"}
    packages |= {p.name + "/" for p in (ROOT / "painlink").iterdir() if p.is_dir()} - {
        "__pycache__/"
    }
    assert packages <= named, f"the layout misses {packages - named}"
    for entry in named:
        assert (ROOT / "painlink" / entry).exists() or (ROOT / entry).exists(), entry


def test_libraries_table_matches_dependencies():
    """Every dependency has a row saying why, and every row names a dependency."""
    text = README.read_text()
    section = text[text.index("## Python libraries and why") :]
    rows = [
        line.split("|")[1].strip().lower()
        for line in section.splitlines()[4:]
        if line.startswith("| ") and not line.startswith("| library")
    ]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + [
        r for extra in project["optional-dependencies"].values() for r in extra
    ]
    names = {re.match(r"[A-Za-z0-9_.\-]+", r).group(0).lower() for r in requirements}
    for name in names:
        assert any(name in row for row in rows), f"{name} has no row in the libraries table"
    for row in rows:
        assert any(name in row for name in names), f"'{row}' is not a dependency"


def _postgres_installed() -> bool:
    return bool(glob.glob("/usr/lib/postgresql/*/bin/initdb") or shutil.which("initdb"))


# What each command must print or leave behind, beyond its exit status. Keys are
# fragments of exactly one tour command; values check (combined output, scratch folder).
CHECKS = {
    "painlink simulate": lambda out, d: "Simulated 50 patients × 180 days" in out,
    "head -3 sim/attacks.csv": lambda out, d: (
        len(out.splitlines()) == 3 and out.startswith("patient_id,attack_id,start")
    ),
    "json.tool sim/truth.json": lambda out, d: '"format": "painlink-simulation-truth"' in out,
    "painlink import sim/": lambda out, d: "Imported 50 patient(s)" in out and "tour.db" in out,
    "painlink summary": lambda out, d: "SIM000050" in out and "tour.db" in out,
    "painlink import bad/": lambda out, d: (
        "attacks.csv, line 3, column 'intensity': above the maximum 3" in out
        and "Nothing was imported" in out
    ),
    "painlink export --out again/": lambda out, d: (
        "Exported 50 patient(s)" in out
        and all(
            f.read_bytes() == (d / "again" / f.name).read_bytes() for f in (d / "sim").glob("*.csv")
        )
    ),
    "painlink days": lambda out, d: (
        pl.read_parquet(d / "days.parquet")["patient_id"].unique().to_list() == ["SIM000001"]
        and pl.read_parquet(d / "days.parquet").height == 180
    ),
    "painlink screen": lambda out, d: out.startswith("EMERGENCY"),
    "painlink classify": lambda out, d: "SIM000003" in out and "ICHD-3" in out,
    "painlink score": lambda out, d: "Neck Disability Index (NDI): 16 points" in out,
    "painlink analyze sim/": lambda out, d: (
        "SIM000004" in out
        and "triggers" in out.lower()
        and {p.name for p in (d / "plots").glob("*.png")} >= {"SIM000004-triggers.png"}
    ),
    "painlink experiment design": lambda out, d: (
        "Experiment for SIM000004" in out and (d / "design.json").is_file()
    ),
    "painlink analyze --patient": lambda out, d: "── SIM000004 ──" in out,
    "painlink import again/": lambda out, d: (
        "postgresql+psycopg://painlink@127.0.0.1" in out and "Imported 50 patient(s)" in out
    ),
}


@pytest.mark.slow
@pytest.mark.postgres
def test_readme_tour_runs_as_written(tmp_path: Path):
    if sys.prefix == sys.base_prefix or not (Path(sys.prefix) / "bin" / "activate").exists():
        pytest.skip("the tour sources .venv/bin/activate: run the tests from a virtual env")
    if not _postgres_installed():
        if os.environ.get("PAINLINK_REQUIRE_POSTGRES") == "1":
            pytest.fail("the tour's step 7 needs Debian's postgresql, which is not installed")
        pytest.skip("the tour's step 7 needs PostgreSQL's server binaries")
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: there is no HEAD to clone")

    clone, logs, home = tmp_path / "painlink", tmp_path / "logs", tmp_path / "home"
    logs.mkdir()
    home.mkdir()
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(ROOT), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", head], check=True)
    (clone / ".venv").symlink_to(sys.prefix)
    # A real .venv is a folder, which .gitignore covers; the link is not a folder.
    with (clone / ".git" / "info" / "exclude").open("a") as exclude:
        exclude.write("/.venv\n")

    commands = tour_commands((clone / "README.md").read_text())
    for key in CHECKS:
        hits = [c.number for c in commands if key in c.text + "\n"]
        assert len(hits) == 1, f"check {key!r} must match exactly one tour command: {hits}"

    script = ["cd " + _quote(clone)]
    for c in commands:
        base = _quote(logs / str(c.number))
        script += [
            "{ " + c.text,
            f"}} >{base}.out 2>{base}.err",
            f"echo $? >{base}.rc",
            f'[ "$(cat {base}.rc)" = {c.expected_exit} ] || exit 1',
        ]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PAINLINK_") and k not in {"VIRTUAL_ENV", "PYTHONHOME"}
    }
    env |= {
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "PYTHONPATH": str(clone),
        "COLUMNS": "120",
    }
    which = subprocess.run(
        ["bash", "-c", f"cd {_quote(clone)} && source .venv/bin/activate && "
         "command -v painlink && python -c 'import painlink; print(painlink.__file__)'"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert which == [f"{sys.prefix}/bin/painlink", str(clone / "painlink" / "__init__.py")]

    servers_before = set(glob.glob(SCRATCH_PG + "*"))
    try:
        run = subprocess.run(
            ["bash", "-c", "\n".join(script)], env=env, capture_output=True, text=True
        )
    finally:
        _stop_scratch_servers(clone, set(glob.glob(SCRATCH_PG + "*")) - servers_before)

    scratch = clone / "tour"
    outputs: dict[str, str] = {}
    for c in commands:
        base = logs / str(c.number)
        assert (base.with_suffix(".rc")).exists(), f"never ran: {c.line}\n{run.stderr[-2000:]}"
        out = base.with_suffix(".out").read_text() + base.with_suffix(".err").read_text()
        outputs[c.line] = out
        status = int(base.with_suffix(".rc").read_text())
        assert status == c.expected_exit, f"{c.line}\nexit {status}\n{out[-3000:]}"
        for key, check in CHECKS.items():
            if key in c.text + "\n":
                assert check(out, scratch), f"{c.line}\nprinted or wrote something else:\n{out}"
    assert run.returncode == 0, run.stderr[-2000:]
    # "A clinic runs the same on PostgreSQL": the analysis read back from PostgreSQL
    # prints exactly what the analysis of the CSV folder printed.
    (from_csv,) = [o for line, o in outputs.items() if "painlink analyze sim/" in line]
    (from_pg,) = [o for line, o in outputs.items() if "painlink analyze --patient" in line]
    assert from_pg == from_csv
    # Step 3's refused import created nothing; step 7's server is gone.
    assert not (scratch / "scratch.db").exists()
    assert set(glob.glob(SCRATCH_PG + "*")) == servers_before
    # Everything the tour wrote is in the ignored tour/ folder: the clone stays clean.
    status = subprocess.run(
        ["git", "-C", str(clone), "status", "--porcelain", "--ignored=no"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    assert status == "", f"the tour left files git does not ignore:\n{status}"
    assert (scratch / "tour.db").exists()


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "'\\''") + "'"


def _stop_scratch_servers(clone: Path, folders: set[str]) -> None:
    """Stop servers a failed tour left running (the tour stops its own when it passes)."""
    for folder in folders:
        port_file = Path(folder) / "port"
        if port_file.exists():
            url = f"postgresql://painlink@127.0.0.1:{port_file.read_text().strip()}/painlink"
            subprocess.run(
                ["bash", str(clone / "scripts" / "scratch-postgres"), "stop", url],
                capture_output=True,
            )
