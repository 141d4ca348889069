"""The training loop: bfloat16 autocast of the forward pass when asked, float32 weights always."""

from __future__ import annotations

import torch

from tune.loop import TrainOptions, train


def _fit(bf16: bool) -> tuple[list[bool], torch.nn.Linear, float, float]:
    torch.manual_seed(0)
    net = torch.nn.Linear(8, 1)
    x = torch.randn(64, 8)
    y = x @ torch.arange(8, dtype=torch.float32)[:, None]
    seen: list[bool] = []

    def loss_of(rows: slice) -> torch.Tensor:
        seen.append(torch.is_autocast_enabled("cpu") and net(x[:1]).dtype == torch.bfloat16)
        return torch.nn.functional.mse_loss(net(x[rows]).float(), y[rows])

    before = float(loss_of(slice(0, 64)))
    seen.clear()
    batches = [slice(i, i + 16) for i in range(0, 64, 16)]
    options = TrainOptions(epochs=30, learning_rate=0.1, warmup=0, bf16=bf16)
    report = train(batches, loss_of, net.parameters(), options)
    assert report.steps == 120
    during = list(seen)
    return during, net, before, float(loss_of(slice(0, 64)))


def test_bf16_autocasts_the_forward_pass_and_keeps_float32_weights() -> None:
    seen, net, before, after = _fit(bf16=True)
    assert seen and all(seen)
    assert net.weight.dtype == torch.float32
    assert after < before / 10


def test_fp32_runs_without_autocast() -> None:
    seen, _, before, after = _fit(bf16=False)
    assert seen and not any(seen)
    assert after < before / 10
