"""ResNet-18 (He et al. 2016), the RGB backbone of BHaRNet-M, and its ImageNet weights.

The network is torchvision's ``resnet18`` layer for layer, with the same parameter names, so
torchvision's ImageNet state dict (``resnet18-f37072fd.pth``) loads into it unchanged. It is
written out here because torchvision's wheels on PyPI are built against the CUDA build of torch:
with the CPU build they fail to import (``operator torchvision::nms does not exist``), and since
torchmetrics imports torchvision whenever it is installed, such an install breaks the whole
training stack. Twenty lines of well-known architecture are the smaller risk.

ImageNet weights are looked for in this order: an explicit path, ``$BHARNET_RESNET18_WEIGHTS``,
the cache (``$BHARNET_CACHE/models`` or ``~/.cache/bharnet/models``), then a download of
torchvision's file into the cache, verified against the SHA-256 prefix pinned in its name (as
torch.hub checks it). Nothing is downloaded unless asked for.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import torch
from torch import Tensor, nn

from bharnet.core.errors import UserError
from bharnet.core.model_files import ModelFile, find_model_file

__all__ = ["ResNet18", "IMAGENET_URL", "IMAGENET_MEAN", "IMAGENET_STD", "resolve_imagenet_weights",
           "load_imagenet_weights"]

IMAGENET_URL = "https://download.pytorch.org/models/resnet18-f37072fd.pth"
#: torchvision's file; its name pins the leading digits of its SHA-256 (as torch.hub checks them)
IMAGENET_WEIGHTS = ModelFile(
    name="ImageNet ResNet-18 weights",
    filename="resnet18-f37072fd.pth",
    url=IMAGENET_URL,
    sha256="f37072fd",
    env="BHARNET_RESNET18_WEIGHTS",
    option="ResNet-18 weights",
    usage="the file's path",
    hint="allow the download (pretrained=imagenet-download)",
)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a shortcut (a strided 1x1 projection where the shape changes)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                                            nn.BatchNorm2d(out_channels))

    def forward(self, x: Tensor) -> Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + shortcut)


class ResNet18(nn.Module):
    """ResNet-18: stem (7x7/2 conv, 3x3/2 max pool), four stages of two basic blocks (64, 128, 256,
    512 channels), global average pooling, FC. ``width`` scales every stage (64 = the standard
    network); ``num_classes=0`` leaves the FC out (``forward`` returns the pooled features)."""

    def __init__(self, num_classes: int = 1000, width: int = 64, dropout: float = 0.0) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        channels = [width, 2 * width, 4 * width, 8 * width]
        c_in = width
        for i, c in enumerate(channels, 1):
            stride = 1 if i == 1 else 2
            setattr(self, f"layer{i}", nn.Sequential(BasicBlock(c_in, c, stride), BasicBlock(c, c)))
            c_in = c
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.out_channels = c_in
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc = nn.Linear(c_in, num_classes) if num_classes > 0 else nn.Identity()
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward_features(self, x: Tensor) -> Tensor:
        """``(N, 3, H, W)`` -> pooled features ``(N, C)``."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return torch.flatten(self.avgpool(x), 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.drop(self.forward_features(x)))


def resolve_imagenet_weights(path: str | os.PathLike | None = None, download: bool = False) -> Path:
    """The ImageNet ResNet-18 weights file: ``path``, ``$BHARNET_RESNET18_WEIGHTS``, the cache, or (with
    ``download``) torchvision's file fetched into the cache and checked. Raises :class:`UserError`
    naming every place looked at when none has it."""
    return find_model_file(IMAGENET_WEIGHTS, path, download=download)


def load_imagenet_weights(model: ResNet18, path: str | os.PathLike) -> list[str]:
    """Load a torchvision-format ResNet-18 state dict into ``model``, all but the classifier (its class
    count differs); returns the loaded keys."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:  # torch's message advises an unsafe load: never pass that on
        raise UserError(f"{path} is not a ResNet-18 state dict: not a PyTorch file of plain tensors (other data, or "
                        "Python objects that would run code from the file when loaded)") from None
    except Exception as err:
        raise UserError(f"{path} is not a readable ResNet-18 state dict: {err}".splitlines()[0]) from err
    if not isinstance(state, dict):
        raise UserError(f"{path} is not a ResNet-18 state dict: it holds a {type(state).__name__}")
    state = {k: v for k, v in state.items() if not k.startswith("fc.")}
    own = {k: v for k, v in model.state_dict().items() if not k.startswith("fc.")}
    wrong = sorted(set(own) ^ set(state)) + [k for k in own if k in state and own[k].shape != state[k].shape]
    if wrong:
        raise UserError(f"{path} does not fit this ResNet-18 (width {model.out_channels // 8}): "
                        f"keys or shapes differ at {wrong[:4]}")
    model.load_state_dict(state, strict=False)
    return sorted(state)
