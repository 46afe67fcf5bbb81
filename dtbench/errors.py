"""User-facing errors: one line that names the problem and the fix.

The CLI catches `DTBenchError`, prints its message on one line and exits non-zero; anything
else is a bug and keeps its traceback.
"""


class DTBenchError(Exception):
    """A problem the user can fix (bad name, missing dataset, wrong shapes, NaN loss)."""


def unknown(kind: str, name: str, known: list[str] | tuple[str, ...]) -> DTBenchError:
    """The error for an unknown name, listing what is known."""
    return DTBenchError(f"unknown {kind} {name!r}; known: {', '.join(sorted(known)) or '(none)'}")


class RunLocked(DTBenchError):
    """The run is being trained by another process (another suite on the same results)."""


class Terminated(BaseException):  # noqa: N818 - a signal, like KeyboardInterrupt
    """SIGTERM arrived: stop as Ctrl-C does (finished runs are kept, unfinished ones resume)."""


class NotTrained(DTBenchError):
    """Evaluating a run again found no usable trained state (its message says why); nothing
    was trained or written."""
