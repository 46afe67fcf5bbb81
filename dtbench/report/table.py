"""A results table: caption, header and rows of display strings, written as markdown and LaTeX.

Every table is rebuilt from the runs one report call reads (`report.collected`); our numbers
and the paper's sit in separately labelled columns. A table with no runs yet still renders, with
a caption naming the make target that fills it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dtbench.atomic import atomic_write
from dtbench.report.cells import STALE_MARK, STALE_NOTE


@dataclass
class Table:
    name: str  # file stem: results/<name>.md and results/tables/<name>.tex
    title: str  # markdown heading, e.g. "MuJoCo / D4RL (paper Tables 2 and 3)"
    caption: str  # the protocol: data, profile, targets, seeds, episodes, deviations
    header: list[str]
    rows: list[list[str]]
    fill_with: str  # the make target that produces its runs
    has_runs: bool  # False: every cell of ours is empty

    def full_caption(self) -> str:
        caption = self.caption
        if any("; best" in cell for row in self.rows for cell in row):
            caption += (" 'best': the mean over seeds of each run's best evaluation, the final "
                        "one or one during training (`eval.during_training`); the first number "
                        "is the final evaluation.")
        if any(STALE_MARK in cell for row in self.rows for cell in row):
            caption += " " + STALE_NOTE
        if not self.has_runs:
            caption += f" No runs stored yet: `{self.fill_with}` fills this table."
        return caption

    def markdown(self) -> str:
        lines = ["| " + " | ".join(self.header) + " |", "|" + "---|" * len(self.header)]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return f"# {self.title}\n\n{self.full_caption()}\n\n" + "\n".join(lines) + "\n"

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
