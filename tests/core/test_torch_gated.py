"""nn.LSTM and nn.GRU weights through from_torch reproduce PyTorch's outputs and gradients."""

import numpy as np
import pytest

import gradlab

torch = pytest.importorskip("torch")

B, T, M, N = 3, 11, 4, 5


def rel(a, b):
    return np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)


def state_dict(net):
    return {k: v.detach().numpy() for k, v in net.state_dict().items()}


def stack(cell, net, layers, x, h0, c0=None):
    """Our layers, each fed the previous one's output: Params, Traces and the top output."""
    sd = state_dict(net)
    params = [gradlab.from_torch(cell, sd, layer=k) for k in range(layers)]
    traces, inp = [], x
    for k, p in enumerate(params):
        traces.append(gradlab.forward(p, inp, h0[k], None if c0 is None else c0[k]))
        inp = traces[-1].h
    return params, traces, inp


def torch_run(net, x, states, upstream_seed=1):
    out, hn = net(x, states)
    up = torch.randn(out.shape, dtype=torch.float64,
                     generator=torch.Generator().manual_seed(upstream_seed))
    (out * up).sum().backward()
    return out.detach().numpy(), hn, up.numpy()


def check_param_grads(net, g, layer):
    ours = gradlab.to_torch(g, layer=layer)
    assert set(ours) == {f"{w}_l{layer}" for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    for name, a in ours.items():
        assert rel(a, getattr(net, name).grad.numpy()) < 1e-10, name


@pytest.mark.parametrize("layers", [1, 2])
def test_lstm_matches_autograd(layers):
    torch.manual_seed(0)
    net = torch.nn.LSTM(M, N, num_layers=layers, batch_first=True, dtype=torch.float64)
    x = torch.randn(B, T, M, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(layers, B, N, dtype=torch.float64, requires_grad=True)
    c0 = torch.randn(layers, B, N, dtype=torch.float64, requires_grad=True)
    out, (hn, cn), up = torch_run(net, x, (h0, c0))

    params, traces, top = stack("lstm", net, layers, x.detach().numpy(), h0.detach().numpy(),
                                c0.detach().numpy())
    assert rel(top, out) < 1e-10
    for k in range(layers):
        assert rel(traces[k].h[:, -1], hn[k].detach().numpy()) < 1e-10
        assert rel(traces[k].c[:, -1], cn[k].detach().numpy()) < 1e-10

    dh = up
    for k in reversed(range(layers)):
        g = gradlab.backward(params[k], traces[k], dh)
        check_param_grads(net, g, k)
        assert rel(g.h0, h0.grad[k].numpy()) < 1e-10
        assert rel(g.c0, c0.grad[k].numpy()) < 1e-10
        dh = g.x
    assert rel(dh, x.grad.numpy()) < 1e-10


@pytest.mark.parametrize("layers", [1, 2])
def test_gru_matches_autograd(layers):
    torch.manual_seed(1)
    net = torch.nn.GRU(M, N, num_layers=layers, batch_first=True, dtype=torch.float64)
    x = torch.randn(B, T, M, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(layers, B, N, dtype=torch.float64, requires_grad=True)
    out, hn, up = torch_run(net, x, h0)

    params, traces, top = stack("gru", net, layers, x.detach().numpy(), h0.detach().numpy())
    assert all(p.options["gru_variant"] == "torch" for p in params)
    assert rel(top, out) < 1e-10
    for k in range(layers):
        assert rel(traces[k].h[:, -1], hn[k].detach().numpy()) < 1e-10

    dh = up
    for k in reversed(range(layers)):
        g = gradlab.backward(params[k], traces[k], dh)
        check_param_grads(net, g, k)
        assert rel(g.h0, h0.grad[k].numpy()) < 1e-10
        dh = g.x
    assert rel(dh, x.grad.numpy()) < 1e-10


def test_gru_cho_variant_is_not_pytorchs():
    torch.manual_seed(2)
    net = torch.nn.GRU(M, N, batch_first=True, dtype=torch.float64)
    x = torch.randn(B, T, M, dtype=torch.float64)
    with torch.no_grad():
        out, _ = net(x)
    p = gradlab.from_torch("gru", state_dict(net), gru_variant="cho")
    assert p.options["gru_variant"] == "cho"
    assert rel(gradlab.forward(p, x.numpy()).h, out.numpy()) > 1e-2


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_to_torch_round_trips_names_and_values(cell):
    net = getattr(torch.nn, cell.upper())(M, N, num_layers=2, batch_first=True,
                                          dtype=torch.float64)
    sd = state_dict(net)
    back = {}
    for k in range(2):
        back |= gradlab.to_torch(gradlab.from_torch(cell, sd, layer=k), layer=k)
    assert set(back) == set(sd)
    for name, a in sd.items():
        np.testing.assert_array_equal(back[name], a)
    net.load_state_dict({k: torch.from_numpy(v) for k, v in back.items()})  # PyTorch takes them


def test_peepholes_have_no_pytorch_name():
    p = gradlab.init_params("lstm", N, M, peepholes=True)
    with pytest.raises(ValueError, match="'P'"):
        gradlab.to_torch(p)


def test_lstm_without_bias_loads_as_zero_biases():
    torch.manual_seed(3)
    net = torch.nn.LSTM(M, N, bias=False, batch_first=True, dtype=torch.float64)
    x = torch.randn(B, T, M, dtype=torch.float64)
    with torch.no_grad():
        out, _ = net(x)
    p = gradlab.from_torch("lstm", state_dict(net))
    assert not np.any(p.weights["b"]) and not np.any(p.weights["b_h"])
    assert rel(gradlab.forward(p, x.numpy()).h, out.numpy()) < 1e-10


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_load_from_npz_and_pt_files(cell, tmp_path):
    torch.manual_seed(4)
    net = getattr(torch.nn, cell.upper())(M, N, num_layers=2, batch_first=True,
                                          dtype=torch.float64)
    sd = state_dict(net)
    np.savez(tmp_path / "w.npz", **sd)
    torch.save(net.state_dict(), tmp_path / "w.pt")
    x = np.random.default_rng(0).standard_normal((B, T, M))
    for k in range(2):
        ref = gradlab.from_torch(cell, sd, layer=k)
        for path in (tmp_path / "w.npz", str(tmp_path / "w.pt")):
            p = gradlab.from_torch(cell, path, layer=k)
            assert p.cell == cell and set(p.weights) == set(ref.weights)
            for name, a in ref.weights.items():
                np.testing.assert_array_equal(p.weights[name], a)
        if k == 0:
            with torch.no_grad():
                out, _ = net(torch.from_numpy(x))
            first = gradlab.forward(gradlab.from_torch(cell, tmp_path / "w.pt", layer=0), x)
            second = gradlab.forward(gradlab.from_torch(cell, tmp_path / "w.npz", layer=1),
                                     first.h)
            assert rel(second.h, out.numpy()) < 1e-10
