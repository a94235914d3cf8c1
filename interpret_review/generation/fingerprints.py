"""Fingerprints of models and datasets, and the provenance a run file carries.

``model_fingerprint`` hashes the state dict (names, dtypes, shapes, bytes); ``scan_dataset``
streams the inputs and labels once, hashing their bytes and noting the input range (which
some method defaults and the automatic display depend on).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from dataclasses import dataclass
from typing import Any

import torch

from interpret_review.generation.inputs import Source

__all__ = ["DatasetScan", "model_fingerprint", "scan_dataset", "versions", "config_json"]


def model_fingerprint(model: torch.nn.Module) -> str:
    """``sha256:<hex>`` of the model's state dict (names, dtypes, shapes and bytes)."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}\n".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return "sha256:" + digest.hexdigest()


@dataclass(frozen=True)
class DatasetScan:
    fingerprint: str  # sha256:<hex> of the inputs (float32) and labels (int64) bytes
    n: int
    low: float  # smallest input value
    high: float  # largest input value


def scan_dataset(source: Source, batch_size: int) -> DatasetScan:
    """Stream rows ``0 .. source.n - 1`` once."""
    digest = hashlib.sha256()
    low, high = float("inf"), float("-inf")
    for start in range(0, source.n, batch_size):
        x, y = source.rows(start, min(start + batch_size, source.n))
        x = x.contiguous()
        if start == 0:
            digest.update(f"inputs {tuple(x.shape[1:])} labels {y is not None}\n".encode())
        digest.update(x.numpy().tobytes())
        if y is not None:
            digest.update(y.to(torch.int64).contiguous().numpy().tobytes())
        low = min(low, float(x.min()))
        high = max(high, float(x.max()))
    return DatasetScan("sha256:" + digest.hexdigest(), source.n, low, high)


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def versions() -> dict[str, str]:
    """Versions of torch, captum and interpret-review ("0+unknown" when not installed)."""
    return {
        "torch": _version("torch"),
        "captum": _version("captum"),
        "interpret_review": _version("interpret-review"),
    }


def config_json(config: dict[str, Any]) -> str:
    """Canonical JSON: equal configs give equal strings."""
    return json.dumps(config, sort_keys=True, separators=(",", ":"))
