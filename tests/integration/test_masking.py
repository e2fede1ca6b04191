"""Right-padded, masked input: a padded sequence predicts exactly what the unpadded one does."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from stacksearch import benchmarks
from stacksearch.model import build_stacked_lstm
from stacksearch.space import ArchSpec

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def vowels():
    pytest.importorskip("aeon")
    return benchmarks.load("japanese_vowels")


def real_length(x: np.ndarray, mask_value: float) -> int:
    return int((~np.all(x == mask_value, axis=-1)).sum())


def test_padded_equals_unpadded_through_a_built_model(vowels) -> None:
    model = build_stacked_lstm(ArchSpec(widths=(8, 8)), vowels)
    assert any(layer.__class__.__name__ == "Masking" for layer in model.layers)
    lengths = [real_length(x, vowels.mask_value) for x in vowels.x_test]
    checked = 0
    for index in np.argsort(lengths)[:: len(lengths) // 6][:6]:
        length = lengths[index]
        assert length < vowels.x_test.shape[1]
        padded = vowels.x_test[index : index + 1]
        unpadded = padded[:, :length]
        np.testing.assert_allclose(
            model.predict(padded, verbose=0), model.predict(unpadded, verbose=0), rtol=1e-5, atol=1e-6
        )
        checked += 1
    assert checked >= 3


def test_padding_would_change_the_prediction_without_the_mask(vowels) -> None:
    masked = build_stacked_lstm(ArchSpec(widths=(8, 8)), vowels)
    plain_data = dataclasses.replace(vowels, mask_value=None)
    plain = build_stacked_lstm(ArchSpec(widths=(8, 8)), plain_data)
    assert not any(layer.__class__.__name__ == "Masking" for layer in plain.layers)
    plain.set_weights(masked.get_weights())
    length = min(real_length(x, vowels.mask_value) for x in vowels.x_test)
    index = int(np.argmin([real_length(x, vowels.mask_value) for x in vowels.x_test]))
    padded = vowels.x_test[index : index + 1]
    unpadded = padded[:, :length]
    np.testing.assert_allclose(
        plain.predict(unpadded, verbose=0), masked.predict(unpadded, verbose=0), rtol=1e-5, atol=1e-6
    )
    assert not np.allclose(plain.predict(padded, verbose=0), plain.predict(unpadded, verbose=0), rtol=1e-5, atol=1e-6)


def test_batch_of_mixed_lengths_matches_one_by_one(vowels) -> None:
    model = build_stacked_lstm(ArchSpec(widths=(8, 8)), vowels)
    batch = vowels.x_val[:16]
    together = model.predict(batch, verbose=0)
    for i, x in enumerate(batch):
        alone = model.predict(x[None, : real_length(x, vowels.mask_value)], verbose=0)
        np.testing.assert_allclose(together[i : i + 1], alone, rtol=1e-5, atol=1e-6)
