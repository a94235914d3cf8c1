"""Helpers for the generate tests: a tiny 2-conv CNN and its data.

Not a pytest conftest (it is not collected); the tests load it by path with
:func:`load_helpers` so it also works in the subprocess of the resume test.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import torch
from torch import nn

HERE = Path(__file__).resolve()


def load_helpers():
    """Import this file as the module ``conftest_generate`` (pytest uses importlib mode)."""
    if "conftest_generate" in sys.modules:
        return sys.modules["conftest_generate"]
    spec = importlib.util.spec_from_file_location("conftest_generate", HERE)
    module = importlib.util.module_from_spec(spec)
    sys.modules["conftest_generate"] = module
    spec.loader.exec_module(module)
    return module


class TinyCNN(nn.Module):
    """(b, 1, 6, 6) -> (b, 3): conv1 (3 ch) -> conv2 (4 ch) -> fc1 (5) -> fc2 (3)."""

    def __init__(self, pause: float = 0.0) -> None:
        super().__init__()
        self.pause = pause
        self.conv1 = nn.Conv2d(1, 3, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(3, 4, 3, padding=1)
        self.relu2 = nn.ReLU()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(4 * 6 * 6, 5)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(5, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pause:
            time.sleep(self.pause)  # makes the resume test's run slow enough to interrupt
        x = self.relu2(self.conv2(self.relu1(self.conv1(x))))
        return self.fc2(self.relu3(self.fc1(self.flatten(x))))


def tiny_model(pause: float = 0.0) -> TinyCNN:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return TinyCNN(pause).eval()


def tiny_data(n: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    """x (n, 1, 6, 6) float32 in [0, 1), y (n,) int64 in 0..2."""
    generator = torch.Generator().manual_seed(1)
    x = torch.rand(n, 1, 6, 6, generator=generator)
    y = torch.randint(0, 3, (n,), generator=generator)
    return x, y
