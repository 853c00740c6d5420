"""The searched CNN: up to three conv blocks, then a hidden dense layer and a linear classifier.

Block ``k`` is ``Conv2d(channels_k, kernel_size, padding="same")``, optionally ``BatchNorm2d``,
the activation, then a 2x2 pooling (max or average) while the feature map is at least 2x2, so
every configuration is valid on 8x8 inputs (8 -> 4 -> 2 -> 1). The classifier is
``Dropout -> Linear(dense_width) -> activation -> Dropout -> Linear(n_classes)``.
Layers keep PyTorch's default initialisation.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "gelu": nn.GELU, "silu": nn.SiLU}
POOLS: dict[str, type[nn.Module]] = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}


@dataclass(frozen=True)
class ImageConfig:
    """The hyperparameters of ``spaces/image.yaml`` as plain Python values.

    ``channels_2`` is set only when ``blocks >= 2`` and ``channels_3`` only when ``blocks == 3``
    (ConfigSpace leaves inactive parameters out of ``dict(config)``). ``pooling`` is ``max``,
    ``avg`` or ``none``.
    """

    blocks: int
    channels_1: int
    kernel_size: int
    pooling: str
    batch_norm: bool
    activation: str
    dropout: float
    dense_width: int
    optimizer: str
    learning_rate: float
    weight_decay: float
    batch_size: int
    channels_2: int | None = None
    channels_3: int | None = None

    @property
    def channels(self) -> tuple[int, ...]:
        """The output channels of each block; ValueError when one of them is unset."""
        channels = (self.channels_1, self.channels_2, self.channels_3)[: self.blocks]
        if len(channels) != self.blocks or None in channels:
            raise ValueError(f"{self.blocks} blocks need channels_1..channels_{self.blocks}")
        return channels


def build_cnn(config: ImageConfig, in_shape: tuple[int, int, int], n_classes: int) -> nn.Module:
    """The CNN of ``config`` for ``(channels, height, width)`` inputs; it outputs logits.

    Raises ValueError for an unknown activation or pooling, or missing block channels.
    """
    if config.activation not in ACTIVATIONS or config.pooling not in (*POOLS, "none"):
        raise ValueError(f"unknown activation {config.activation!r} or pooling {config.pooling!r}")
    activation = ACTIVATIONS[config.activation]
    layers: list[nn.Module] = []
    in_channels, height, width = in_shape
    for channels in config.channels:
        layers.append(
            nn.Conv2d(
                in_channels,
                channels,
                config.kernel_size,
                padding="same",
                bias=not config.batch_norm,  # batch norm's shift replaces the bias
            )
        )
        if config.batch_norm:
            layers.append(nn.BatchNorm2d(channels))
        layers.append(activation())
        if config.pooling in POOLS and min(height, width) >= 2:
            layers.append(POOLS[config.pooling](2))
            height, width = height // 2, width // 2
        in_channels = channels
    layers += [
        nn.Flatten(),
        nn.Dropout(config.dropout),
        nn.Linear(in_channels * height * width, config.dense_width),
        activation(),
        nn.Dropout(config.dropout),
        nn.Linear(config.dense_width, n_classes),
    ]
    return nn.Sequential(*layers)
