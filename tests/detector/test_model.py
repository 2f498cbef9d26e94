"""detector.model: the paper's CRNN shape, frame-level output, freezing for transfer learning."""

import pytest
import torch

from detector.model import BLOCKS, CRNN, CRNNConfig, build_model


def test_the_default_crnn_has_the_papers_parameter_budget():
    counts = CRNN().parameter_counts()
    assert counts["total"] == counts["trainable"] == pytest.approx(20_720, abs=200)
    assert counts["L1"] == pytest.approx(140, abs=20)
    assert counts["L2"] == pytest.approx(7_400, abs=200) and counts["L3"] == pytest.approx(7_400, abs=200)
    assert counts["rest"] == pytest.approx(5_800, abs=150)
    assert counts["total"] == sum(counts[k] for k in (*BLOCKS, "rest"))


def test_each_block_is_conv_batchnorm_relu_and_frequency_pooling():
    model = CRNN()
    for name in BLOCKS:
        conv, bn, relu, pool = getattr(model, name)
        assert isinstance(conv, torch.nn.Conv2d) and isinstance(bn, torch.nn.BatchNorm2d)
        assert isinstance(relu, torch.nn.ReLU) and pool.kernel_size[0] == 1
    assert model.rnn.bidirectional


@pytest.mark.parametrize("frames", [1, 7, 100, 333])
def test_forward_keeps_one_logit_per_frame(frames):
    out = CRNN().eval()(torch.randn(3, frames, 80))
    assert out.shape == (3, frames)


def test_a_64_band_model_pools_to_one_band():
    config = CRNNConfig(n_mels=64, freq_pools=(4, 4, 4))
    assert config.rnn_output_bands == 1
    assert CRNN(config).eval()(torch.randn(1, 10, 64)).shape == (1, 10)


@pytest.mark.parametrize("changes", [{"channels": (1, 2)}, {"kernel_sizes": (3, 4, 3)},
                                     {"freq_pools": (8, 8, 8)}])
def test_impossible_configs_are_refused(changes):
    with pytest.raises(ValueError):
        CRNNConfig(**changes)


def test_config_round_trips_through_a_dict():
    config = CRNNConfig(channels=(8, 16, 16), rnn_hidden=12)
    assert CRNNConfig.from_dict(config.to_dict()) == config


def test_build_model_with_a_seed_is_deterministic():
    a, b = build_model(seed=3), build_model(seed=3)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))


def test_freezing_a_block_removes_its_parameters_from_training():
    model = CRNN().freeze(["L1"])
    counts = model.parameter_counts()
    assert counts["trainable"] == counts["total"] - counts["L1"]
    assert model.frozen == ("L1",)
    assert CRNN().freeze(["all"]).parameter_counts()["trainable"] == counts["rest"]


def test_a_frozen_block_keeps_its_weights_and_batchnorm_statistics_while_training():
    model = CRNN().freeze(["L2"])
    model.train()
    before = {k: v.clone() for k, v in model.L2.state_dict().items()}
    other = model.L1[1].running_mean.clone()
    optimiser = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    loss = model(torch.randn(2, 50, 80) * 3 + 1).pow(2).mean()
    loss.backward()
    optimiser.step()
    assert model.L2.training is False and model.L1.training is True
    for key, value in model.L2.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert not torch.equal(model.L1[1].running_mean, other)


def test_unfreeze_makes_everything_trainable_again():
    model = CRNN().freeze(["L1", "L3"]).unfreeze()
    model.train()
    assert model.frozen == () and model.L1.training
    assert model.parameter_counts()["trainable"] == model.parameter_counts()["total"]


def test_freezing_an_unknown_block_is_refused():
    with pytest.raises(ValueError, match="L4"):
        CRNN().freeze(["L4"])


def test_time_pooling_keeps_one_output_per_10_ms_frame_in_pairs():
    import torch

    from detector.model import CRNN, CRNNConfig

    model = CRNN(CRNNConfig(channels=(4, 4, 4), rnn_hidden=4, time_pool=2)).eval()
    for frames in (1, 5, 400):
        out = model(torch.randn(2, frames, 80))
        assert out.shape == (2, frames)
        assert torch.equal(out[:, 0 : frames - frames % 2 : 2], out[:, 1 : frames : 2])  # each pair shares a value
