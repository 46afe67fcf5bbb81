"""A results table: an opening caption, header and rows of display strings, and footnotes,
written as markdown and LaTeX.

Every table is rebuilt from the runs one report call reads (`report.collected`); our numbers
and the paper's sit in separately labelled columns. A table with no runs yet still renders, with
a footnote naming the make target that fills it.

A caption has a fixed shape, so that a reader gets what a table shows before its details: the
opening (`caption`, one to three sentences: what the table shows, on which data, with how many
seeds and which interval), then the table, then the `settings` footnote (generated from where
the profile departs from the paper's settings, `cells.settings_note`), then the other `notes`
(column meanings, method details, marks). tests/test_report.py counts the opening's sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dtbench.atomic import atomic_write
from dtbench.report.cells import STALE_MARK, STALE_NOTE

BEST_NOTE = ("'best': the mean over seeds of each run's best evaluation, the final one or one "
             "during training (`eval.during_training`); the first number is the final "
             "evaluation.")


@dataclass
class Table:
    name: str  # file stem: results/<name>.md and results/tables/<name>.tex
    title: str  # markdown heading, e.g. "MuJoCo / D4RL (paper Tables 2 and 3)"
    caption: str  # the opening: what it shows, on which data, seeds and interval (<= 3 sentences)
    header: list[str]
    rows: list[list[str]]
    fill_with: str  # the make target that produces its runs
    has_runs: bool  # False: every cell of ours is empty
    settings: str = ""  # the Settings footnote (cells.settings_note); a paragraph per domain
    notes: list[str] = field(default_factory=list)  # further footnotes, one sentence or few

    def footnotes(self) -> list[str]:
        """The notes after the table: the given ones, then the marks its cells use, then how
        to fill it when it is empty."""
        notes = [note for note in self.notes if note]
        if any("; best" in cell for row in self.rows for cell in row):
            notes.append(BEST_NOTE)
        if any(STALE_MARK in cell for row in self.rows for cell in row):
            notes.append(STALE_NOTE)
        if not self.has_runs:
            notes.append(f"No runs stored yet: `{self.fill_with}` fills this table.")
        return notes

    def full_caption(self) -> str:
        """The LaTeX caption: the opening, the settings and every footnote, in that order."""
        return " ".join(part for part in (self.caption, *self.settings.split("\n"),
                                          *self.footnotes()) if part)

    def markdown(self) -> str:
        lines = ["| " + " | ".join(self.header) + " |", "|" + "---|" * len(self.header)]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        after = [p for p in self.settings.split("\n") if p]
        notes = [f"- {note}" for note in self.footnotes()]
        parts = [f"# {self.title}", self.caption, "\n".join(lines), *after]
        if notes:
            parts.append("\n".join(notes))
        return "\n\n".join(parts) + "\n"

    def latex(self) -> str:
        frame = pd.DataFrame(self.rows, columns=self.header)
        return frame.to_latex(index=False, escape=True, caption=_latex_escape(self.full_caption()),
                              label=f"tab:{self.name}", position="t")

    def write(self, results_root: Path) -> list[Path]:
        md = results_root / f"{self.name}.md"
        tex = results_root / "tables" / f"{self.name}.tex"
        tex.parent.mkdir(parents=True, exist_ok=True)
        for path, text in ((md, self.markdown()), (tex, self.latex())):
            with atomic_write(path) as tmp:
                tmp.write_text(text)
        return [md, tex]


_LATEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
          "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
          "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}", "`": ""}


def _latex_escape(text: str) -> str:
    """Caption text for LaTeX (one pass, so replacements are not escaped again)."""
    return re.sub("|".join(map(re.escape, _LATEX)), lambda m: _LATEX[m.group()], text)


# A sentence ends at '.', '?' or '!' followed by a space and a capital letter (or a quote or
# backtick before one), or at the end of the text: "e.g. `make`", "Chen et al. 2021" and "2.8.1"
# end none
_SENTENCE_END = re.compile(r"[.?!](?=\s+['\"`(]?[A-Z])|[.?!]\s*$")


def sentences(text: str) -> int:
    """How many sentences `text` holds, by `_SENTENCE_END` (a text without a final stop counts
    its last sentence too)."""
    text = text.strip()
    if not text:
        return 0
    ends = len(_SENTENCE_END.findall(text))
    return ends if re.search(r"[.?!]\s*$", text) else ends + 1


def counted(n: int | str, noun: str) -> str:
    """'1 seed', '3 seeds', '2-3 seeds': a count with its noun in the number it takes."""
    return f"{n} {noun}" if str(n) == "1" else f"{n} {noun}s"
