"""Which code made a run: a fingerprint of the source that determines its numbers.

A run's numbers come from its algorithm's module, its domain's module and the executor
(`dtbench.runs.execute`: data, sampler, models, training, evaluator, results), and from every
module those import, found by reading their import statements (function-level imports
included). The fingerprint is a digest of those files' bytes, minus the modules that cannot
move a number (`NOT_NUMBERS`: reports, the CLI and API, launchers, trackers, downloads, file
bookkeeping), minus a domain's `profiles` module, its settings values, which runs are
compared with by value (`runs.stale.find_stale_settings`), and minus a domain's `generate`
module and what only it imports: the data it makes is identified by its files' digest
(`data.identity`), which every run records and which makes a run stale when its data changes,
so a new generation recipe marks exactly the runs on the data it replaces. So editing the
training loop changes DT's fingerprint and the d3rlpy baselines' only where they share the code
(the executor's), editing a report changes none, and adopting a tuned lr in a profile changes
none (it makes stale the runs whose resolved settings it changes).

Each run records its fingerprint, git commit and whether the tree was dirty (config.json
`code`, result.json `code_fingerprint`); `dtbench report` marks table cells whose runs have
another fingerprint than the current code's for their algorithm and domain, and `dtbench suite
--stale` lists them.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import subprocess
from pathlib import Path

from dtbench import registry
from dtbench.errors import DTBenchError
from dtbench.runtime import PROJECT_ROOT

EXECUTOR = "dtbench.runs.execute"
# modules that decide what is written where, shown or logged, never a run's numbers
NOT_NUMBERS = ("dtbench.report", "dtbench.cli", "dtbench.__main__", "dtbench.api",
               "dtbench.suite", "dtbench.launchers", "dtbench.tracking", "dtbench.parallel",
               "dtbench.data.download", "dtbench.runs.table", "dtbench.runs.stale",
               "dtbench.runs.code", "dtbench.runs.settings_drift", "dtbench.plugins")


def _file(module: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


def _imports(module: str, path: Path) -> set[str]:
    """Modules named by the file's import statements (the names that are modules)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_bytes())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


# a domain's `generate` module makes datasets; a run depends on the data, by its digest, not on
# the code that made it (a changed recipe reaches a run through its data's digest)
DATA_MAKER_MODULE = "generate"


@functools.cache
def closure(roots: tuple[str, ...]) -> dict[str, Path]:
    """Every module of the roots' top-level packages that the roots import, transitively (with
    the packages whose `__init__` running them executes), by name, with its file; a data maker
    (`DATA_MAKER_MODULE`) and its imports are not followed."""
    tops = {root.partition(".")[0] for root in roots}
    seen: dict[str, Path] = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        if (name in seen or name.partition(".")[0] not in tops
                or name.rpartition(".")[2] == DATA_MAKER_MODULE):
            continue
        path = _file(name)
        if path is None:
            continue  # a name imported from a module, not a module
        seen[name] = path
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]
        todo += sorted(_imports(name, path))
    return seen


# a domain's `profiles` module holds settings values only; runs are compared with it by the
# values they resolve to (`runs.stale.find_stale_settings`), not by its text
SETTINGS_MODULE = "profiles"


def _counts(module: str) -> bool:
    if module.rpartition(".")[2] == SETTINGS_MODULE:
        return False
    return not any(module == n or module.startswith(n + ".") for n in NOT_NUMBERS)


def code_text(source: bytes) -> str:
    """What of a module's source can change a number: its syntax tree (comments and layout are
    not in it) without docstrings, the module's, a class's, a function's or an attribute's (a
    statement that is a string and nothing else does nothing), as text."""
    tree = _NoDocstrings().visit(ast.parse(source))
    return ast.dump(tree, annotate_fields=False, include_attributes=False)


class _NoDocstrings(ast.NodeTransformer):
    def visit_Expr(self, node: ast.Expr) -> ast.AST | None:  # noqa: N802 - ast's visitor name
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return None  # dropped (the tree is only dumped, never compiled)
        return node


@functools.cache
def fingerprint_of(roots: tuple[str, ...]) -> str:
    """sha256 (first 16 hex digits) over the name and code (`code_text`) of each counted
    module."""
    digest = hashlib.sha256()
    for name, path in sorted(closure(roots).items()):
        if _counts(name):
            digest.update(name.encode() + b"\0" + code_text(path.read_bytes()).encode() + b"\0")
    return digest.hexdigest()[:16]


def roots_of(algo: str, domain: str) -> tuple[str, ...]:
    """The modules a run of `algo` on `domain` starts from: the executor, the algorithm's
    train function(s) and the domain's registered functions."""
    a, d = registry.get_algo(algo), registry.get_domain(domain)
    functions = [a.train, a.train_group, d.normalize, d.make_env]
    modules = {f.__module__ for f in functions if f is not None and hasattr(f, "__module__")}
    return tuple(sorted({EXECUTOR, *modules}))


def fingerprint(algo: str, domain: str) -> str | None:
    """The current code's fingerprint for runs of `algo` on `domain` (None: not registered)."""
    try:
        return fingerprint_of(roots_of(algo, domain))
    except DTBenchError:  # an algorithm or domain that is not registered here
        return None


def git_state() -> dict[str, object]:
    """The commit and whether the tracked files differ from it (None where git is absent)."""
    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True,
                                 text=True, timeout=5)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "--short", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def code_record(algo: str, domain: str) -> dict[str, object]:
    """What config.json records of the code that made a run."""
    return {"fingerprint": fingerprint(algo, domain), **git_state()}
