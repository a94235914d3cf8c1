"""The digits demo: a small CNN trained in seconds on scikit-learn's 8x8 digits.

``digits_dataset(split)`` gives (1, 8, 8) inputs (pixels / 16) and labels from a fixed,
stratified 75/25 split of ``sklearn.datasets.load_digits`` (1347 train, 450 test examples).
``digits_cnn(cache_dir)`` trains the model once (fixed seed, CPU) and caches its state dict
under a key that hashes the training code and config, so a change retrains.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import TensorDataset
from tqdm.auto import tqdm

from interpret_review.errors import ConfigError
from interpret_review.generation.model_cache import cache_key, cached_model
from interpret_review.settings import Settings

__all__ = ["DigitsCNN", "digits_accuracy", "digits_cnn", "digits_dataset", "digits_display"]

TRAIN_CONFIG: dict[str, Any] = {
    "epochs": 12,
    "batch_size": 32,
    "lr": 0.003,
    "seed": 0,
    "split_seed": 0,
}


class DigitsCNN(nn.Module):
    """(b, 1, 8, 8) -> (b, 10) logits. Separate non-inplace ReLUs for DeepLift/GuidedBackprop."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.relu2 = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(16 * 4 * 4, 64)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.relu2(self.conv2(self.relu1(self.conv1(x)))))
        return self.fc2(self.relu3(self.fc1(self.flatten(x))))


def _split(split: str) -> tuple[np.ndarray, np.ndarray]:
    """x (n, 1, 8, 8) float32 in [0, 1], y (n,) int64 for split "train" or "test"."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if split not in ("train", "test"):
        raise ConfigError(f"digits split must be 'train' or 'test', got {split!r}")
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None]
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.25, random_state=TRAIN_CONFIG["split_seed"], stratify=y
    )
    return (x_train, y_train) if split == "train" else (x_test, y_test)


def digits_dataset(split: str = "test") -> TensorDataset:
    """TensorDataset of x (1, 8, 8) float32 (pixels / 16) and y int64 labels."""
    x, y = _split(split)
    return TensorDataset(torch.from_numpy(x), torch.from_numpy(y))


def digits_display(x: torch.Tensor) -> np.ndarray:
    """x (b, 1, 8, 8) in [0, 1] -> the digits as uint8 (b, 8, 8), 0..255."""
    return (x[:, 0] * 255.0).round().clamp(0, 255).to(torch.uint8).cpu().numpy()


def _train(progress: bool = True) -> DigitsCNN:
    x, y = (torch.from_numpy(a) for a in _split("train"))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(TRAIN_CONFIG["seed"])
        model = DigitsCNN()
        optimizer = torch.optim.Adam(model.parameters(), lr=TRAIN_CONFIG["lr"])
        generator = torch.Generator().manual_seed(TRAIN_CONFIG["seed"])
        size = TRAIN_CONFIG["batch_size"]
        epochs = tqdm(
            range(TRAIN_CONFIG["epochs"]), desc="training digits CNN", unit="epoch",
            disable=not progress,
        )  # fmt: skip
        for _ in epochs:
            order = torch.randperm(len(x), generator=generator)
            for start in range(0, len(x), size):
                rows = order[start : start + size]
                optimizer.zero_grad()
                loss = nn.functional.cross_entropy(model(x[rows]), y[rows])
                loss.backward()
                optimizer.step()
    return model.eval()


def digits_cnn(
    cache_dir: str | Path | None = None,
    settings: Settings | None = None,
    progress: bool = False,
) -> nn.Module:
    """The trained digits CNN (eval mode). Trained on first use (a few seconds, with a
    progress bar when ``progress``), then loaded from ``cache_dir`` (default:
    ``settings.cache_path``); see :mod:`.model_cache`."""
    if cache_dir is None and settings is not None:
        cache_dir = settings.cache_path
    code = inspect.getsource(DigitsCNN) + inspect.getsource(_train) + inspect.getsource(_split)
    key = cache_key(code, json.dumps(TRAIN_CONFIG, sort_keys=True))
    return cached_model("digits_cnn", key, DigitsCNN, lambda: _train(progress), cache_dir)


def digits_accuracy(model: nn.Module, split: str = "test") -> float:
    """Fraction of ``split`` the model classifies correctly."""
    x, y = (torch.from_numpy(a) for a in _split(split))
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())
