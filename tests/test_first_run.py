"""Every run is a first run: nothing a test needs comes from an earlier run, and a run
leaves nothing behind (tests/scratch.py).

The session runs with HOME and TMPDIR pointing at empty directories of its own, which
it removes at the end; the tools keep their state there or in a test's ``tmp_path``.
The last test of the session checks that nothing escaped: what this process created
elsewhere, what appeared in the work tree, and the files tools drop in /tmp when they
ignore TMPDIR.
"""

from __future__ import annotations

import ast
import fnmatch
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests import scratch
from tests.cups import PrivateCups, lp_blocking_ancestor
from tests.daemon import ROOT
from tests.snmp import netsnmp

#: Work-tree entries that are not a test's doing: the virtualenv, the Makefile's stamps
#: and linters' and pytest's caches, packaging metadata of the editable install, and the
#: state directory of ``make run``.
WORKTREE_OWN = {".git", ".venv", ".test-tools", ".pytest_cache", ".ruff_cache",
                "__pycache__", "var"}
#: Untracked files with these suffixes are someone's new source, not a test's output.
SOURCE_SUFFIXES = {".py", ".md", ".toml", ".cfg", ".sh", ".service", ".html", ".css"}
#: What the tools the tests start leave in TMPDIR (here: the run's) when not cleaned up:
#: Chromium's and Ghostscript's temporary files.
TOOL_LITTER = (".org.chromium.Chromium.*", "scoped_dir*", "gs_*")
#: ``ip netns exec NS`` reads /etc/netns/NS/; namespace tests make and remove that.
ETC_NETNS = Path("/etc/netns")
#: Test files allowed to name fixed places: the run's own machinery, and the SD-image
#: test (``make test-image``, not part of ``make test``), whose debootstrapped root is
#: cached in ~/.cache/printbridge on purpose.
FIXED_PATHS_ALLOWED = {"tests/scratch.py", "tests/test_first_run.py",
                       "tests/boot/test_firstboot_nspawn.py"}


def this_run() -> scratch.Run:
    run = scratch.current()
    assert run is not None, "tests/conftest.py did not start a run (tests/scratch.py)"
    return run


def test_home_and_tmpdir_are_this_runs() -> None:
    run = this_run()
    assert os.environ["HOME"] == str(run.home) == os.path.expanduser("~")
    assert Path.home() == run.home
    assert os.environ["TMPDIR"] == str(run.tmp) == tempfile.gettempdir()
    for caller in (run.caller_env["HOME"], run.caller_env["TMPDIR"]):
        assert caller is None or Path(caller).resolve() not in (run.home, run.tmp)
    # Made by this run (mkdtemp: a new name), so everything in it is this run's.
    assert run.root.name.startswith(scratch.PREFIX)
    for path in (run.root, run.tmp, run.home, *run.home.rglob("*")):
        try:
            assert path.lstat().st_ctime >= run.started, path
        except FileNotFoundError:
            continue
    for name in scratch.FOREIGN_STATE:
        assert name not in os.environ, name
    assert os.environ["LC_ALL"] == scratch.RUN_LOCALE and "LANG" not in os.environ
    # The tools a test starts see the same.
    seen = subprocess.run(["sh", "-c", 'printf "%s\\n%s\\n" "$HOME" "$TMPDIR"'],
                          capture_output=True, text=True, check=True).stdout.split("\n")
    assert seen[:2] == [str(run.home), str(run.tmp)]


def test_tools_keep_their_state_in_the_run(tmp_path: Path) -> None:
    run = this_run()
    assert scratch.owns(tmp_path)
    # net-snmp's clients: configuration, MIB and persistent directory (~/.snmp,
    # /var/lib/snmp otherwise), and the HOME they see.
    env = netsnmp.env()
    for name in ("SNMPCONFPATH", "SNMP_PERSISTENT_DIR", "MIBDIRS", "HOME"):
        assert scratch.owns(env[name]), (name, env[name])
    # cupsd's ServerRoot, spool, cache, state and logs, reachable by user lp.
    cups = PrivateCups()
    try:
        assert scratch.owns(cups.root) and cups.root.is_dir()
        assert lp_blocking_ancestor(cups.root) is None
    finally:
        shutil.rmtree(cups.root)
    assert scratch.owns(scratch.lp_tmp()) and run.home.is_dir()


def string_constants(tree: ast.AST) -> list[ast.Constant]:
    """String literals that are not docstrings."""
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef
                                | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    return [node for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings]


def test_tests_use_only_temporary_directories() -> None:
    """No test or helper names /tmp, /var/tmp or a path in HOME: all they make goes in
    ``tmp_path`` or :mod:`tempfile` (which follow the run's TMPDIR)."""
    found = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in FIXED_PATHS_ALLOWED:
            continue
        tree = ast.parse(path.read_text(), rel)
        for node in string_constants(tree):
            text = node.value
            if (text in ("/tmp", "/var/tmp") or text.startswith(("/tmp/", "/var/tmp/", "~/"))
                    or "/.cache/" in text):
                found.append(f"{rel}:{node.lineno}: {text!r}")
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute)
                    and node.attr in ("expanduser", "home", "gettempdirb")):
                found.append(f"{rel}:{node.lineno}: .{node.attr}")
    assert not found, "fixed places outside the run's directories:\n" + "\n".join(found)


def new_in_worktree(since: float) -> list[str]:
    """Untracked or ignored paths of the work tree changed since ``since`` (the top of
    each new tree), except :data:`WORKTREE_OWN` and untracked source files."""
    status = subprocess.run(
        ["git", "status", "--porcelain=v1", "-z", "--ignored", "--untracked-files=normal"],
        cwd=ROOT, capture_output=True, check=True).stdout.decode(errors="replace")
    tokens = iter(status.split("\0"))
    found: list[str] = []

    def note(path: Path) -> None:
        rel = path.relative_to(ROOT).as_posix()
        if not any(rel.startswith(f"{top}/") for top in found):
            found.append(rel)

    for token in tokens:
        if not token:
            continue
        code, rel = token[:2], token[3:]
        if code[0] in "RC":
            next(tokens, None)  # -z: a rename's source follows as its own token
        if code not in ("??", "!!"):
            continue  # tracked files: people's edits, not a test's
        ignored = code == "!!"
        top = ROOT / rel.rstrip("/")
        if top.name in WORKTREE_OWN or top.name.endswith(".egg-info"):
            continue
        entries = [(top, top.is_dir() and not top.is_symlink())]
        for dirpath, dirnames, filenames in os.walk(top) if entries[0][1] else ():
            dirnames[:] = sorted(d for d in dirnames if d not in WORKTREE_OWN)
            entries += [(Path(dirpath) / d, True) for d in dirnames]
            entries += [(Path(dirpath) / f, False) for f in sorted(filenames)]
        for path, is_dir in entries:
            if is_dir and not ignored:
                continue  # a new untracked folder is judged by its files
            if not ignored and path.suffix in SOURCE_SUFFIXES:
                continue
            try:
                if path.lstat().st_ctime >= since:
                    note(path)
            except FileNotFoundError:
                continue
    return found


def tool_litter(since: float, folders: list[Path]) -> list[str]:
    found = []
    for folder in folders:
        for entry in os.scandir(folder):
            if any(fnmatch.fnmatchcase(entry.name, p) for p in TOOL_LITTER):
                try:
                    if entry.stat(follow_symlinks=False).st_ctime >= since:
                        found.append(entry.path)
                except FileNotFoundError:
                    continue
    return found


@pytest.mark.run_last
def test_nothing_left_behind(request: pytest.FixtureRequest) -> None:
    """After every other test (tests/conftest.py runs this one last): what this process
    created outside the run still there, files new in the work tree, tools' litter in
    /tmp and the caller's TMPDIR.  The run's own directories go after this test."""
    run = this_run()
    allowed = tuple(Path(p).resolve() for p in [request.config.option.basetemp] if p)
    made = scratch.left_behind(allowed)
    # `ip netns exec NS` reads /etc/netns/NS/: the namespace tests make that folder and
    # remove it, and the empty /etc/netns above it stays (as /run/netns does).
    if str(ETC_NETNS) in made and not any(ETC_NETNS.iterdir()):
        made.remove(str(ETC_NETNS))
    problems = [f"made by the test process, not removed: {p}" for p in made]
    if shutil.which("git") and (ROOT / ".git").exists():
        problems += [f"written into the work tree: {p}" for p in new_in_worktree(run.started)]
    folders = {Path("/tmp"), Path(run.caller_env["TMPDIR"] or "/tmp")}
    problems += [f"left by a tool outside TMPDIR: {p}"
                 for p in tool_litter(run.started, sorted(folders))]
    assert not problems, "\n".join(problems[:40])
