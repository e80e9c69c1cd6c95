"""Model builders: each returns a plain, uncompiled `keras.Model`."""

from zoo.models.layers import Normalization
from zoo.models.registry import create_model, list_models, model_options, register_model

__all__ = ["Normalization", "create_model", "list_models", "model_options", "register_model"]
