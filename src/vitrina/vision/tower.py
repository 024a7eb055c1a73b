"""The image tower (torch; training only): a small residual CNN from pixels to the text encoder's space.

Serving runs its ONNX export (vision/encoder.py) with no torch. Its input is float32 [N, 3, HEIGHT, WIDTH] in
0..1 (vision/images.py's grid); its output rows are L2-normalised, like the text encoder's."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class _Stage(nn.Module):
    """One downsampling conv, then one residual pair at the new size."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.down = _conv(cin, cout, 2)
        self.body = nn.Sequential(_conv(cout, cout), nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.down(x)
        return F.relu(x + self.body(x))


class ImageTower(nn.Module):
    # ImageNet-style centring: the thumbnails are mostly white background, so the mean is high.
    MEAN = (0.85, 0.83, 0.82)
    STD = (0.25, 0.26, 0.27)

    def __init__(self, dimension: int = 384, width: int = 32):
        super().__init__()
        self.register_buffer("mean", torch.tensor(self.MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(self.STD).view(1, 3, 1, 1))
        self.stem = _conv(3, width)  # full resolution once: colour and fine pattern live here
        self.stages = nn.Sequential(_Stage(width, width), _Stage(width, 2 * width), _Stage(2 * width, 4 * width),
                                    _Stage(4 * width, 8 * width))
        self.head = nn.Linear(8 * width + 3 * 2, dimension)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Colour statistics of the non-white pixels go straight to the head: colour is half of what shoppers ask.
        weight = (x.min(dim=1, keepdim=True).values < 0.92).float()
        share = weight.mean(dim=(2, 3)).clamp_min(1e-3)
        colour = (x * weight).mean(dim=(2, 3)) / share
        spread = ((x - colour[:, :, None, None]) ** 2 * weight).mean(dim=(2, 3)) / share
        mean, std = self.get_buffer("mean"), self.get_buffer("std")
        h = self.stages(self.stem((x - mean) / std))
        h = torch.cat([h.mean(dim=(2, 3)), colour, spread.sqrt()], dim=1)
        return F.normalize(self.head(h), dim=1)
