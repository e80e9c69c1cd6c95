"""The model registry and builders: names, options, heads, scaling inside the model."""

from __future__ import annotations

import numpy as np
import pytest

import zoo
from zoo.errors import OptionError, UnknownNameError


def test_list_models_filters_with_shell_wildcards():
    assert {"logistic", "mlp", "linear", "lecture-net"} <= set(zoo.list_models())
    assert zoo.list_models("l*") == ["lecture-net", "linear", "logistic"]
    assert zoo.list_models("nothing*") == []


def test_unknown_model_lists_close_names():
    with pytest.raises(UnknownNameError, match="did you mean mlp"):
        zoo.create_model("mpl", input_shape=(2,), num_classes=2)


def test_register_model_uses_the_function_name_and_none_options_are_dropped():
    from zoo.models.registry import MODELS

    seen = {}

    @zoo.register_model
    def tiny_test_net(input_shape, num_classes, *, width=3, head="softmax"):
        seen.update(width=width, head=head)
        return "built"

    try:
        assert "tiny-test-net" in zoo.list_models()
        assert (
            zoo.create_model("tiny-test-net", input_shape=(2,), num_classes=2, width=None)
            == "built"
        )
        assert seen == {"width": 3, "head": "softmax"}
        with pytest.raises(OptionError, match="takes no such option"):
            zoo.create_model("tiny-test-net", input_shape=(2,), num_classes=2, depth=4)
    finally:
        MODELS._entries.pop("tiny-test-net")


def test_mlp_is_a_plain_uncompiled_keras_model_with_the_lab_layout():
    import keras

    model = zoo.create_model("mlp", input_shape=(32, 32, 3), num_classes=3, hidden=(10,))
    assert isinstance(model, keras.Model)
    assert not model.compiled
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [d.units for d in dense] == [10, 3]
    assert dense[0].kernel.shape == (3072, 10)
    assert model.layers[-1].activation.__name__ == "softmax"
    out = model(np.zeros((2, 32, 32, 3), dtype="float32"))
    assert out.shape == (2, 3)


@pytest.mark.parametrize(
    ("head", "classes", "units", "activation"),
    [
        ("softmax", 3, 3, "softmax"),
        ("sigmoid", 2, 1, "sigmoid"),
        ("sigmoid", 4, 4, "sigmoid"),
        ("linear", 1, 1, "linear"),
    ],
)
def test_heads_choose_units_and_activation(head, classes, units, activation):
    model = zoo.create_model("logistic", input_shape=(5,), num_classes=classes, head=head)
    assert model.outputs[0].shape[-1] == units
    assert model.layers[-1].activation.__name__ == activation


def test_normalization_lives_inside_the_model():
    x = np.random.default_rng(0).normal(5.0, 3.0, size=(200, 4)).astype("float32")
    norm = zoo.Normalization.from_data(x)
    model = zoo.create_model("linear", input_shape=(4,), num_classes=1, normalization=norm)
    layer = model.get_layer("normalization")
    scaled = np.asarray(layer(x))
    np.testing.assert_allclose(scaled.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(scaled.std(axis=0), 1, atol=1e-3)


def test_image_normalization_uses_the_lab_statistics_per_channel():
    mean, std = (0.5074, 0.4867, 0.4411), (0.2011, 0.1987, 0.2025)
    norm = zoo.Normalization(mean, std, scale=1 / 255)
    model = zoo.create_model("mlp", input_shape=(32, 32, 3), num_classes=3, normalization=norm)
    pixel = np.full((1, 32, 32, 3), 200, dtype="float32")
    flat = np.asarray(
        model.get_layer("flatten")(
            model.get_layer("normalization")(model.get_layer("rescaling")(pixel))
        )
    )
    expected = (200 / 255 - np.array(mean)) / np.array(std)
    np.testing.assert_allclose(flat[0, :3], expected, rtol=1e-5)


def test_constant_features_stay_finite_after_scaling():
    x = np.zeros((10, 3), dtype="float32")
    x[:, 1] = np.arange(10)
    norm = zoo.Normalization.from_data(x)
    assert norm.std[0] == 1.0 and norm.std[2] == 1.0


@pytest.mark.parametrize(
    ("options", "flag"),
    [
        ({"hidden": (0,)}, "hidden"),
        ({"hidden": "ten"}, "hidden"),
        ({"activation": "gelu"}, "activation"),
        ({"head": "tanh"}, "head"),
    ],
)
def test_impossible_model_options_name_the_option(options, flag):
    with pytest.raises(OptionError) as err:
        zoo.create_model("mlp", input_shape=(4,), num_classes=3, **options)
    assert err.value.option == flag


def test_lecture_net_carries_the_lecture_weights():
    model = zoo.create_model("lecture-net", input_shape=(3,), num_classes=2)
    out = np.asarray(model(np.array([[0.5, 0.9, -0.3]], dtype="float32")))
    np.testing.assert_allclose(out, [[0.35, 0.85]], atol=0.01)
