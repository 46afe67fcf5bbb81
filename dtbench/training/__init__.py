"""DT's training (and the paper's BC's): one loop for a single run and for seeds stacked into
one vmapped model.

loop.py        the loop: sample, loss, NaN guard, update, log, checkpoint, evaluate
learners.py    what it updates: one model (`Single`) or stacked seeds (`Stacked`), the loss
optim.py       AdamW, its parameter groups and the lr schedules
checkpoint.py  checkpoint.pt: save, read, resume (exactly), load trained weights
metrics.py     metrics.csv: append, trim on resume
"""

from dtbench.training.checkpoint import CHECKPOINT, load_weights
from dtbench.training.learners import Single, Stacked
from dtbench.training.loop import train
from dtbench.training.metrics import METRICS
from dtbench.training.optim import lr_multiplier, make_optimizer

__all__ = ["CHECKPOINT", "METRICS", "Single", "Stacked", "load_weights", "lr_multiplier",
           "make_optimizer", "train"]
