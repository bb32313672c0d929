"""from_torch refuses what it cannot load faithfully, with one line naming what it found
(issue 9, items 3 and 12): bidirectional layers, nested dicts, None values, empty files,
complex weights, integer target dtypes, cells PyTorch does not have."""

import numpy as np
import pytest

import gradlab

torch = pytest.importorskip("torch")


def rnn_state(**kw):
    net = torch.nn.RNN(3, 4, dtype=torch.float64, **kw)
    return {k: v.detach() for k, v in net.state_dict().items()}


def test_bidirectional_state_dicts_are_refused_by_name():
    sd = rnn_state(bidirectional=True)
    with pytest.raises(ValueError, match=r"bidirectional layer \(bias_hh_l0_reverse"):
        gradlab.from_torch("rnn", sd)
    net = torch.nn.LSTM(3, 4, bidirectional=True)
    with pytest.raises(ValueError, match="bidirectional.*_reverse"):
        gradlab.from_torch("lstm", net.state_dict())
    fwd = {k: v for k, v in sd.items() if not k.endswith("_reverse")}
    assert gradlab.from_torch("rnn", fwd).n == 4  # the forward direction alone loads


def test_nested_dicts_are_refused_by_name():
    with pytest.raises(ValueError, match="entry 'rnn' is a nested dict .*weight_ih_l0.*flat"):
        gradlab.from_torch("rnn", {"rnn": rnn_state()})


def test_none_values_are_refused_by_name():
    sd = rnn_state()
    sd["bias_hh_l0"] = None
    with pytest.raises(ValueError, match="entry 'bias_hh_l0' is None; expected a tensor"):
        gradlab.from_torch("rnn", sd)


def test_empty_and_odd_files_are_refused(tmp_path):
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="empty.pt is empty"):
        gradlab.from_torch("rnn", empty)
    torch.save({}, tmp_path / "nothing.pt")
    with pytest.raises(ValueError, match="empty state dict; expected PyTorch names"):
        gradlab.from_torch("rnn", tmp_path / "nothing.pt")
    torch.save(torch.zeros(3), tmp_path / "tensor.pt")
    with pytest.raises(ValueError, match="holds a Tensor; expected a state_dict"):
        gradlab.from_torch("rnn", tmp_path / "tensor.pt")
    torch.save(rnn_state(), tmp_path / "cut.pt")
    data = (tmp_path / "cut.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cut.pt is not a readable PyTorch file"):
        gradlab.from_torch("rnn", tmp_path / "cut.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match="junk.pt is not a readable PyTorch file"):
        gradlab.from_torch("rnn", tmp_path / "junk.pt")
    with pytest.raises(ValueError, match="empty state dict"):
        gradlab.from_torch("rnn", {})


def test_projection_weights_are_refused_by_name():
    net = torch.nn.LSTM(3, 4, proj_size=2)
    with pytest.raises(ValueError, match=r"\['weight_hr_l0'\] have no place"):
        gradlab.from_torch("lstm", net.state_dict())


def test_a_module_prefix_is_named_in_the_error():
    sd = {f"rnn.{k}": v for k, v in rnn_state().items()}
    with pytest.raises(KeyError, match="found 'rnn.weight_"):
        gradlab.from_torch("rnn", sd)


def test_complex_and_integer_weights_are_refused():
    sd = rnn_state()
    sd["weight_hh_l0"] = sd["weight_hh_l0"].to(torch.complex128)
    with pytest.raises(ValueError, match="'weight_hh_l0' is complex"):
        gradlab.from_torch("rnn", sd)
    sd = {k: v.numpy() for k, v in rnn_state().items()}
    sd["weight_ih_l0"] = np.ones((4, 3), dtype=np.int64)
    with pytest.raises(ValueError, match="'weight_ih_l0' is of dtype int64"):
        gradlab.from_torch("rnn", sd)


@pytest.mark.parametrize("dtype", [np.int32, np.complex64, np.float16])
def test_only_float32_and_float64_targets(dtype):
    with pytest.raises(ValueError, match="dtype="):
        gradlab.from_torch("rnn", rnn_state(), dtype=dtype)
    assert gradlab.from_torch("rnn", rnn_state(), dtype=np.float32).dtype == np.float32


def test_cells_torch_does_not_have_are_refused():
    with pytest.raises(ValueError, match="cell='indrnn' has no PyTorch counterpart"):
        gradlab.from_torch("indrnn", rnn_state())
    p = gradlab.init_params("indrnn", 4, 3)
    with pytest.raises(ValueError, match="cell='indrnn' has no PyTorch counterpart"):
        gradlab.to_torch(p)
    tr = gradlab.forward(p, np.ones((5, 3)))
    with pytest.raises(ValueError, match="cell='indrnn' has no PyTorch counterpart"):
        gradlab.to_torch(gradlab.backward(p, tr, np.ones(tr.h.shape)))
