"""nn.RNN weights through from_torch reproduce PyTorch's outputs and gradients (float64)."""

import numpy as np
import pytest

import gradlab

torch = pytest.importorskip("torch")


def rel(a, b):
    return np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("layers", [1, 2])
def test_rnn_matches_autograd(nonlinearity, layers):
    torch.manual_seed(0)
    B, T, m, n = 3, 11, 4, 5
    net = torch.nn.RNN(m, n, num_layers=layers, nonlinearity=nonlinearity, batch_first=True,
                       dtype=torch.float64)
    x = torch.randn(B, T, m, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(layers, B, n, dtype=torch.float64, requires_grad=True)
    out, hn = net(x, h0)
    up = torch.randn_like(out)
    (out * up).sum().backward()

    sd = {k: v.detach().numpy() for k, v in net.state_dict().items()}
    params = [gradlab.from_torch("rnn", sd, layer=k, nonlinearity=nonlinearity)
              for k in range(layers)]
    traces, inp = [], x.detach().numpy()
    for k, p in enumerate(params):
        traces.append(gradlab.forward(p, inp, h0[k].detach().numpy()))
        inp = traces[-1].h
    assert rel(inp, out.detach().numpy()) < 1e-12
    for k in range(layers):
        assert rel(traces[k].h[:, -1], hn[k].detach().numpy()) < 1e-12

    dh = up.numpy()
    for k in reversed(range(layers)):
        g = gradlab.backward(params[k], traces[k], dh)
        theirs = {name: getattr(net, name).grad.numpy()
                  for name in gradlab.to_torch(g, layer=k)}
        for name, ours in gradlab.to_torch(g, layer=k).items():
            assert rel(ours, theirs[name]) < 1e-10, name
        assert rel(g.h0, h0.grad[k].numpy()) < 1e-10
        dh = g.x
    assert rel(dh, x.grad.numpy()) < 1e-10


def test_names_round_trip_and_files(tmp_path):
    net = torch.nn.RNN(3, 4, dtype=torch.float64)
    sd = {k: v.detach().numpy() for k, v in net.state_dict().items()}
    p = gradlab.from_torch("rnn", sd)
    back = gradlab.to_torch(p)
    assert set(back) == set(sd)
    for k in sd:
        np.testing.assert_array_equal(back[k], sd[k])
    np.savez(tmp_path / "w.npz", **sd)
    torch.save(net.state_dict(), tmp_path / "w.pt")
    for path in (tmp_path / "w.npz", tmp_path / "w.pt", str(tmp_path / "w.pt")):
        q = gradlab.from_torch("rnn", path)
        for k in p.weights:
            np.testing.assert_array_equal(q.weights[k], p.weights[k])


def test_missing_layer_is_a_clear_error():
    net = torch.nn.RNN(3, 4, dtype=torch.float64)
    with pytest.raises(KeyError, match="weight_hh_l1 not in the state dict"):
        gradlab.from_torch("rnn", net.state_dict(), layer=1)


def test_bias_free_models_load():
    net = torch.nn.RNN(3, 4, bias=False, dtype=torch.float64)
    p = gradlab.from_torch("rnn", net.state_dict())
    x = torch.randn(5, 3, dtype=torch.float64)
    out, _ = net(x)
    np.testing.assert_allclose(gradlab.forward(p, x.numpy()).h[0], out.detach().numpy(),
                               rtol=1e-12)
