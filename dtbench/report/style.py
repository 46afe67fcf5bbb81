"""One look for every figure: each method's colour, marker and display name, defined here once,
and the colours of everything that is not a method (datasets, reward variants, reference lines,
episode kinds), chosen so that no figure paints a non-method series in a method's colour.

The method colours are seaborn's colourblind palette in its order (DT blue, CQL orange, ...);
the paper's own BCs, drawn beside d3rlpy's only when both ran, are darker shades of the d3rlpy
BC they stand beside, with markers of their own. Non-method series take greys, black and
Paul Tol's indigo, olive and wine, which `tests/test_figures.py` keeps apart from every method
colour.
"""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.colors import to_rgb


@dataclass(frozen=True)
class Method:
    """How a method looks in every figure."""

    label: str
    colour: str
    marker: str


METHODS: dict[str, Method] = {
    "dt": Method("DT", "#0173b2", "o"),
    "cql": Method("CQL", "#de8f05", "s"),
    "bc": Method("d3rlpy BC", "#029e73", "^"),
    "bc10": Method("d3rlpy 10%BC", "#d55e00", "v"),
    "bc25": Method("d3rlpy 25%BC", "#cc78bc", "<"),
    "bc40": Method("d3rlpy 40%BC", "#ca9161", ">"),
    # the `random` baseline samples actions uniformly: not the data's random walk
    "random": Method("Uniform random actions", "#fbafe4", "X"),
    "bc-paper": Method("BC [bc-paper]", "#005a3f", "D"),
    "bc10-paper": Method("10%BC [bc10-paper]", "#8a3c00", "d"),
    "bc25-paper": Method("25%BC [bc25-paper]", "#9b4a8f", "P"),
    "bc40-paper": Method("40%BC [bc40-paper]", "#7a5731", "*"),
}
ORDER = list(METHODS)  # legends, bars and rows in this order
LABELS = {algo: m.label for algo, m in METHODS.items()}
COLOURS = {algo: m.colour for algo, m in METHODS.items()}


def method(algo: str) -> Method:
    """The look of a method; an algorithm no figure knew (a plug-in) is drawn in black with
    its own name rather than borrowing another method's colour."""
    return METHODS.get(algo, Method(algo, INK, "o"))


# Not methods: these never take a method's colour
INK = "#000000"  # seeds, paper marks, whiskers, the best episode in the data
SHORTEST = "#404040"  # the graph's true shortest paths (BFS)
WALK = "#b3b3b3"  # the data's random walk (the behaviour that made the graph data)
IDENTITY = "#808080"  # y = x, the zero line, 0.5 on probabilities
DENSE, DELAYED = "#332288", "#b8b3d9"  # reward variants: the same hue, delayed paler
CHECK, CHECK_BACKGROUND = "#9a9a9a", "#f0f0f0"  # the PIPELINE CHECK watermark and tint
# datasets (learning-curves) and the critic's episode kinds; lines add a dash per task
SERIES = ("#332288", "#999933", "#882255", "#000000", "#808080")

NON_METHOD = (INK, SHORTEST, WALK, IDENTITY, DENSE, DELAYED, CHECK, CHECK_BACKGROUND, *SERIES)

# two colours closer than this (Euclidean distance in RGB, 0-1 per channel) read as one
DISTINCT = 0.2


def distance(a: str, b: str) -> float:
    """Euclidean distance of two colours in RGB."""
    return sum((x - y) ** 2 for x, y in zip(to_rgb(a), to_rgb(b), strict=True)) ** 0.5


def is_method_colour(colour: str | tuple) -> bool:
    """Whether a drawn colour reads as some method's (within `DISTINCT`)."""
    rgb = to_rgb(colour)
    return any(distance(rgb, m.colour) < DISTINCT for m in METHODS.values())
