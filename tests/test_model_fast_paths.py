"""The training-speed rewrites compute what the plain formulas compute (issue 13)."""

from __future__ import annotations

import torch

from coupling.nets.attention import pooled_attention, softmax_last
from coupling.nets.dropout import FastDropout


def test_pooled_attention_is_the_mean_over_queries_of_softmax_attention_with_and_without_grad():
    torch.manual_seed(0)
    q, k, v = torch.randn(5, 4, 9, 8), torch.randn(5, 4, 9, 8), torch.randn(5, 4, 9, 8)
    plain = (softmax_last(q @ k.transpose(-1, -2)) @ v).mean(2, keepdim=True)
    with torch.no_grad():  # the in-place path
        assert torch.allclose(pooled_attention(q.clone(), k, v), plain, atol=1e-6)
    qg = q.clone().requires_grad_()
    out = pooled_attention(qg, k, v)
    assert torch.allclose(out, plain, atol=1e-6)
    out.sum().backward()
    assert qg.grad is not None and torch.isfinite(qg.grad).all()


def test_fast_dropout_drops_p_of_the_values_keeps_the_mean_and_is_identity_in_eval():
    torch.manual_seed(0)
    x = torch.ones(200_000)
    drop = FastDropout(0.1).train()
    y = drop(x)
    assert abs((y == 0).float().mean().item() - 0.1) < 0.005
    assert abs(y.mean().item() - 1.0) < 0.01
    assert torch.equal(drop.eval()(x), x)
    assert torch.equal(FastDropout(0.0).train()(x), x)
