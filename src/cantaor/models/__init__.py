"""Neural singer classifiers, looked up by name."""

from torch import nn

from cantaor.models.crnn import CRNN
from cantaor.models.residual50 import Residual50
from cantaor.models.residual_blstm import ResidualBLSTM

MODELS: dict[str, type[nn.Module]] = {
    "crnn": CRNN,
    "residual50": Residual50,
    "residual_blstm": ResidualBLSTM,
}


def build_model(name: str, *, n_classes: int, n_bins: int = 128, **options) -> nn.Module:
    """Construct a registered model.

    Parameters
    ----------
    name : str
        A key of ``MODELS``.
    n_classes : int
        Number of output classes (singers).
    n_bins : int
        Feature bins per frame.
    **options
        Further keyword arguments of the model class.

    Returns
    -------
    torch.nn.Module
        The freshly initialised model.
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)}")
    return MODELS[name](n_classes=n_classes, n_bins=n_bins, **options)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters (buffers such as batch-norm statistics excluded)."""
    return sum(parameter.numel() for parameter in model.parameters() if parameter.requires_grad)


__all__ = ["CRNN", "MODELS", "Residual50", "ResidualBLSTM", "build_model", "count_parameters"]
