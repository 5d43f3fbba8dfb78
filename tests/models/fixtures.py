"""What several model tests set up."""

from __future__ import annotations

import torch


def with_running_statistics(bn: torch.nn.BatchNorm2d) -> None:
    with torch.no_grad():  # statistics and affine parameters away from their initial 0 / 1
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-1, 1)
