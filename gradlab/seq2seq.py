"""A small recurrent encoder-decoder, with attention (any of six scores) or without it.

Tokens are integers 0..k-1 (k = ``vocab``); they enter the networks one-hot.

Encoder (any registered cell, hidden size n) over the source x_1..x_T:

    h_t = cell_enc(h_{t-1}, onehot(x_t)),  h_0 = 0          H = (h_1..h_T)   # (B, T, n)

Decoder (same cell, hidden n), teacher-forced over the previous target token y_{q-1}
(y_0 = BOS, an extra input symbol k), starting from the encoder's last state:

    s_q = cell_dec(s_{q-1}, onehot(y_{q-1})),  s_0 = h_T (and c_0 = c_T for the LSTM)

With attention (Luong et al. 2015: the current decoder state asks the question):

    e_{q,t} = score(h_t, s_q),  a_q = softmax_t(e_q),  ctx_q = sum_t a_{q,t} h_t

Without attention (the classic encoder-decoder of Cho et al. 2014): ctx_q = h_T for every q,
i.e. the alignment is pinned to the last source step. Both then read out

    z_q = V [s_q; ctx_q] + b_y,   p(y_q | y_<q, x) = softmax(z_q),   L = mean_q,b -log p(y_q)

so the model without attention is the same network with the attention weights fixed to
a_{q,t} = [t = T]; ``Seq2Seq.without_attention()`` gives it, sharing every weight.

Everything runs on gradlab's kernels: ``gradlab.forward``/``backward`` for both recurrences
(the upstream dh of the encoder collects the attention's dL/dH and the decoder's dL/ds_0),
``attend``/``attend_backward`` and ``cross_entropy``.

Parameters are one flat mapping name -> array, so a generic trainer can update them:
``enc.W, enc.U, enc.b, enc.b_h`` (and any extra cell weights), ``dec.*`` likewise,
``att.*`` (the score's parameters, see ``gradlab.attention.attention_params``) and
``out.V`` (k, 2n), ``out.b_y`` (k,).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from .attention import SCORES, attend, attend_backward, attention_params
from .init import init_params
from .ops import backward, forward
from .params import Params
from .readout import cross_entropy, outputs, readout_params


def _frozen(a) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


def _freeze_map(d: Mapping[str, Any]) -> Mapping[str, np.ndarray]:
    return MappingProxyType({k: _frozen(v) for k, v in d.items()})


@dataclass(frozen=True, eq=False)
class Batch:
    """Source and target token sequences: src (B, T), tgt (B, Q), integers in [0, vocab)."""

    src: np.ndarray  # (B, T)
    tgt: np.ndarray  # (B, Q)

    def __post_init__(self):
        for name in ("src", "tgt"):
            a = np.array(getattr(self, name), copy=True)
            if a.ndim == 1:
                a = a[None]
            if a.ndim != 2 or not np.issubdtype(a.dtype, np.integer):
                raise ValueError(f"{name} must be integer tokens (B, length); got "
                                 f"{a.dtype} {a.shape}")
            a = a.astype(np.int64)
            a.setflags(write=False)
            object.__setattr__(self, name, a)
        if self.src.shape[0] != self.tgt.shape[0]:
            raise ValueError(f"src has {self.src.shape[0]} sequences and tgt "
                             f"{self.tgt.shape[0]}; they must match")

    def __len__(self) -> int:
        return self.src.shape[0]

    def take(self, index) -> Batch:
        """The sequences at ``index`` (an int, slice or index array) as a Batch."""
        idx = np.atleast_1d(np.arange(len(self))[index])
        return Batch(self.src[idx], self.tgt[idx])


@dataclass(frozen=True, eq=False)
class Seq2SeqPass:
    """One forward pass (and, after ``Seq2Seq.backward``, what it needs).

    loss: mean cross-entropy over the B*Q target steps; logits (B, Q, k);
    alignment (B, Q, T) = attention weights a_{q,t} (one-hot on t = T without attention);
    H (B, T, n) encoder states; S (B, Q, n) decoder states; context (B, Q, n);
    correct (B, Q) bools: argmax logits == target (teacher-forced); batch: the input;
    cache: the traces and intermediate results ``backward`` reads. Arrays are read-only.
    """

    loss: float
    logits: np.ndarray  # (B, Q, k)
    alignment: np.ndarray  # (B, Q, T)
    H: np.ndarray  # (B, T, n)
    S: np.ndarray  # (B, Q, n)
    context: np.ndarray  # (B, Q, n)
    correct: np.ndarray  # (B, Q)
    batch: Batch
    cache: Mapping[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, eq=False)
class Seq2SeqGrads:
    """Gradients of the mean loss L of one pass.

    params: {name: dL/dparam} with the model's parameter names;
    H (B, T, n): total dL/dh_t of the encoder states (every path, through the recurrence too);
    H_direct (B, T, n): the part that reaches h_t directly from the decoder side (through
    the attention, or through s_0 = h_T and ctx = h_T without attention), before BPTT.
    """

    params: Mapping[str, np.ndarray]
    H: np.ndarray  # (B, T, n)
    H_direct: np.ndarray  # (B, T, n)


@dataclass(frozen=True, eq=False)
class Decoded:
    """Greedy decoding: tokens (B, Q) (each step fed the previous prediction),
    alignment (B, Q, T), and exact (B,) bools when targets were given (all Q tokens right)."""

    tokens: np.ndarray  # (B, Q)
    alignment: np.ndarray  # (B, Q, T)
    exact: np.ndarray | None = None  # (B,)


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Metrics on a batch: teacher-forced loss and token accuracy, greedy-decoding token
    accuracy and exact-match accuracy (share of sequences decoded entirely right), and
    the alignment (Q, T) of the first sequence under greedy decoding."""

    loss: float
    token_accuracy: float
    decoded_token_accuracy: float
    exact_match: float
    alignment: np.ndarray  # (Q, T)

    @property
    def accuracy(self) -> float:
        """The headline accuracy: exact match under greedy decoding."""
        return self.exact_match


def _split(params: Mapping[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    p = prefix + "."
    return {k[len(p):]: v for k, v in params.items() if k.startswith(p)}


@dataclass(frozen=True, eq=False)
class Seq2Seq:
    """An encoder-decoder over ``vocab`` tokens, source length ``length``.

    cell: a registered cell name ('rnn', 'lstm', 'gru', ...); score: one of
    ``gradlab.attention.SCORES`` or None (no attention: the decoder sees h_T only);
    hidden: n for both networks; params: the flat weight mapping (read-only arrays);
    options: cell options (activation, gru_variant, ...), the same for both networks.
    Build one with ``Seq2Seq.create``.
    """

    cell: str
    score: str | None
    vocab: int
    hidden: int
    length: int
    params: Mapping[str, np.ndarray]
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if self.score is not None and self.score not in SCORES:
            raise ValueError(f"score={self.score!r} is not one of {SCORES} or None")
        for name in ("vocab", "hidden", "length"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name}={v!r} must be a positive integer")
        object.__setattr__(self, "params", _freeze_map(self.params))
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))
        n, k = self.hidden, self.vocab
        expect = {"out.V": (k, 2 * n), "out.b_y": (k,)}
        for name, shape in expect.items():
            if name not in self.params or self.params[name].shape != shape:
                got = self.params[name].shape if name in self.params else "missing"
                raise ValueError(f"params[{name!r}] is {got}; expected {shape}")

    # -- construction -------------------------------------------------------------------

    @classmethod
    def create(cls, cell: str = "gru", score: str | None = "additive", *, vocab: int = 10,
               hidden: int = 48, length: int = 8, seed: int = 0,
               spectral_radius: float = 1.0, dtype=np.float64, **options) -> Seq2Seq:
        """Fresh weights from ``seed``: encoder and decoder by ``gradlab.init_params``
        (``scheme`` 'gaussian' scaled to ``spectral_radius``; ``options`` go to the cell),
        attention by ``attention_params`` (d_a = n; location scores need ``length``
        rows), readout V ~ N(0, 1/(2n)), b_y = 0."""
        if score is not None and score not in SCORES:
            raise ValueError(f"score={score!r} is not one of {SCORES} or None")
        seeds = np.random.SeedSequence(seed).generate_state(4)
        n = int(hidden)
        enc = init_params(cell, n, vocab, spectral_radius=spectral_radius,
                          seed=int(seeds[0]), dtype=dtype, **options)
        dec = init_params(cell, n, vocab + 1, spectral_radius=spectral_radius,
                          seed=int(seeds[1]), dtype=dtype, **options)
        params = {f"enc.{k}": v for k, v in enc.weights.items()}
        params.update({f"dec.{k}": v for k, v in dec.weights.items()})
        if score is not None:
            att = attention_params(score, n, n, d_a=n, steps=length, seed=int(seeds[2]),
                                   dtype=dtype)
            params.update({f"att.{k}": v for k, v in att.items()})
        out = readout_params(2 * n, vocab, seed=int(seeds[3]), dtype=dtype)
        params.update({f"out.{k}": v for k, v in out.items()})
        return cls(cell, score, int(vocab), n, int(length), params, dict(enc.options))

    def with_params(self, params: Mapping[str, np.ndarray]) -> Seq2Seq:
        """The same model with other weights (same names and shapes)."""
        return Seq2Seq(self.cell, self.score, self.vocab, self.hidden, self.length,
                       params, self.options)

    def without_attention(self) -> Seq2Seq:
        """The same encoder, decoder and readout with the attention removed: ctx_q = h_T."""
        params = {k: v for k, v in self.params.items() if not k.startswith("att.")}
        return Seq2Seq(self.cell, None, self.vocab, self.hidden, self.length, params,
                       self.options)

    @property
    def attention(self) -> bool:
        return self.score is not None

    @property
    def bos(self) -> int:
        """The start symbol fed to the decoder before the first target token."""
        return self.vocab

    # -- forward and backward -----------------------------------------------------------

    def _nets(self, params):
        p = self.params if params is None else params
        enc = Params(self.cell, _split(p, "enc"), self.options)
        dec = Params(self.cell, _split(p, "dec"), self.options)
        return p, enc, dec, _split(p, "att"), _split(p, "out")

    def _onehot(self, tokens, width: int, dtype) -> np.ndarray:
        return np.eye(width, dtype=dtype)[tokens]

    def _check(self, batch: Batch) -> None:
        if batch.src.shape[1] != self.length:
            raise ValueError(f"source length {batch.src.shape[1]}; this model takes "
                             f"length={self.length}")
        for name, a in (("src", batch.src), ("tgt", batch.tgt)):
            if a.size and (a.min() < 0 or a.max() >= self.vocab):
                raise ValueError(f"{name} tokens must lie in [0, {self.vocab}); got "
                                 f"[{a.min()}, {a.max()}]")

    def _attend(self, att_p, H, S):
        """(alignment (B, Q, T), context (B, Q, n), Attention or None)."""
        B, T, n = H.shape
        Q = S.shape[1]
        if self.score is None:
            A = np.zeros((B, Q, T), H.dtype)
            A[:, :, -1] = 1.0
            return A, np.repeat(H[:, -1:, :], Q, axis=1), None
        att = attend(self.score, H, S, att_p)
        return att.weights, att.context, att

    def forward(self, batch: Batch, params: Mapping[str, np.ndarray] | None = None
                ) -> Seq2SeqPass:
        """Teacher-forced pass over ``batch`` (with ``params``, default the model's)."""
        self._check(batch)
        p, enc, dec, att_p, out_p = self._nets(params)
        dt = enc.dtype
        B, Q = batch.tgt.shape
        x = self._onehot(batch.src, self.vocab, dt)  # (B, T, k)
        y_in = np.concatenate([np.full((B, 1), self.bos), batch.tgt[:, :-1]], axis=1)
        u = self._onehot(y_in, self.vocab + 1, dt)  # (B, Q, k+1)
        etr = forward(enc, x)
        H = etr.h  # (B, T, n)
        c_T = None if etr.c is None else etr.c[:, -1]
        dtr = forward(dec, u, H[:, -1], c_T)
        S = dtr.h  # (B, Q, n)
        A, C, att = self._attend(att_p, H, S)
        R = np.concatenate([S, C], axis=2)  # (B, Q, 2n)
        ce = cross_entropy(out_p, R, batch.tgt)
        correct = ce.y.argmax(axis=2) == batch.tgt
        cache = MappingProxyType({"enc": enc, "dec": dec, "etr": etr, "dtr": dtr, "att": att,
                                  "ce": ce, "names": tuple(p)})
        return Seq2SeqPass(ce.loss, _frozen(ce.y), _frozen(A), _frozen(H), _frozen(S),
                           _frozen(C), _frozen(correct), batch, cache)

    def backward(self, fwd: Seq2SeqPass) -> Seq2SeqGrads:
        """Gradients of fwd.loss for every parameter and every encoder state.

        dL/dR from the readout splits into dL/ds_q (direct) and dL/dctx_q; attend_backward
        turns dL/dctx into dL/dH and dL/dS; BPTT through the decoder with
        dh = dL/ds_direct + dL/dS gives dL/ds_0, which joins dL/dh_T (and dL/dc_T); BPTT
        through the encoder with that upstream gives the encoder's weights and total dL/dH.
        """
        c = fwd.cache
        enc, dec, etr, dtr, att, ce = (c[k] for k in ("enc", "dec", "etr", "dtr", "att", "ce"))
        n = self.hidden
        dR = ce.dh  # (B, Q, 2n)
        dS = np.array(dR[:, :, :n])  # (B, Q, n)
        dC = dR[:, :, n:]  # (B, Q, n)
        grads: dict[str, np.ndarray] = {f"out.{k}": v for k, v in ce.grads.items()}
        if att is None:
            dH = np.zeros_like(fwd.H)  # (B, T, n)
            dH[:, -1] += dC.sum(axis=1)
        else:
            ag = attend_backward(att, dcontext=dC)
            dH = np.array(ag.H)
            dS += ag.s
            grads.update({f"att.{k}": v for k, v in ag.params.items()})
        dg = backward(dec, dtr, dS)
        grads.update({f"dec.{k}": v for k, v in dg.params.items()})
        dH[:, -1] += dg.h0
        dc = None
        if etr.c is not None:
            dc = np.zeros_like(etr.c)
            dc[:, -1] = dg.c0
        eg = backward(enc, etr, dH, dc=dc)
        grads.update({f"enc.{k}": v for k, v in eg.params.items()})
        ordered = {k: grads[k] for k in c["names"]}
        return Seq2SeqGrads(_freeze_map(ordered), _frozen(eg.h), _frozen(dH))

    def loss_and_grads(self, params: Mapping[str, np.ndarray], batch: Batch
                       ) -> tuple[float, dict[str, np.ndarray]]:
        """(mean loss, {name: gradient}) at ``params``: the trainer's interface."""
        fwd = self.forward(batch, params)
        return fwd.loss, dict(self.backward(fwd).params)

    # -- decoding and evaluation --------------------------------------------------------

    def decode(self, src, params: Mapping[str, np.ndarray] | None = None, *,
               steps: int | None = None, targets=None) -> Decoded:
        """Greedy decoding of ``steps`` tokens (default: the source length): each step feeds
        the previous prediction back (BOS first). ``targets`` (B, Q) fills ``exact``."""
        src = np.atleast_2d(np.asarray(src, dtype=np.int64))
        Q = self.length if steps is None else int(steps)
        if targets is not None:
            targets = np.atleast_2d(np.asarray(targets))
            Q = targets.shape[1]
        self._check(Batch(src, np.zeros((src.shape[0], 1), np.int64)))
        _, enc, dec, att_p, out_p = self._nets(params)
        dt = enc.dtype
        B = src.shape[0]
        etr = forward(enc, self._onehot(src, self.vocab, dt))
        H = etr.h  # (B, T, n)
        s = H[:, -1]  # (B, n)
        c = None if etr.c is None else etr.c[:, -1]
        prev = np.full(B, self.bos)
        tokens = np.empty((B, Q), np.int64)
        A = np.empty((B, Q, self.length), dt)
        for q in range(Q):
            tr = forward(dec, self._onehot(prev[:, None], self.vocab + 1, dt), s, c)
            s = tr.h[:, 0]
            c = None if tr.c is None else tr.c[:, 0]
            a, ctx, _ = self._attend(att_p, H, s[:, None])
            A[:, q] = a[:, 0]
            R = np.concatenate([s, ctx[:, 0]], axis=1)[:, None]  # (B, 1, 2n)
            prev = outputs(out_p, R)[:, 0].argmax(axis=1)  # logits (B, k)
            tokens[:, q] = prev
        exact = None if targets is None else _frozen(np.all(tokens == targets, axis=1))
        return Decoded(_frozen(tokens), _frozen(A), exact)

    def evaluate(self, params: Mapping[str, np.ndarray] | None, batch: Batch) -> Evaluation:
        """Loss and accuracies on ``batch`` (see Evaluation); the trainer's snapshots use it."""
        fwd = self.forward(batch, params)
        dec = self.decode(batch.src, params, targets=batch.tgt)
        return Evaluation(fwd.loss, float(fwd.correct.mean()),
                          float(np.mean(dec.tokens == batch.tgt)), float(dec.exact.mean()),
                          dec.alignment[0])


# -- why attention helps gradients ---------------------------------------------------------


@dataclass(frozen=True, eq=False)
class EncoderGradients:
    """||dL/dh_j|| against source position j = 1..T, with and without attention.

    positions (T,) = 1..T; with_attention, without_attention (T,): the mean over the batch
    of ||dL_b/dh_j|| (L_b: one sequence's mean loss over its target steps), total
    derivatives (every path, the encoder recurrence included); *_direct (T,): the part
    arriving at h_j straight from the decoder side before BPTT (zero for j < T without
    attention). For the LSTM, h_j is the hidden state (not the cell state).
    """

    positions: np.ndarray  # (T,)
    with_attention: np.ndarray  # (T,)
    without_attention: np.ndarray  # (T,)
    with_attention_direct: np.ndarray  # (T,)
    without_attention_direct: np.ndarray  # (T,)

    @property
    def attention_ratio(self) -> float:
        """max/min of the attention curve (1 = perfectly flat)."""
        return float(self.with_attention.max() / self.with_attention.min())

    def normalised(self) -> tuple[np.ndarray, np.ndarray]:
        """Both curves divided by their own maximum, (T,) each: the shapes side by side
        (for a trained model the two losses, and so the two scales, differ widely)."""
        return (_frozen(self.with_attention / self.with_attention.max()),
                _frozen(self.without_attention / self.without_attention.max()))

    @property
    def no_attention_ratio(self) -> float:
        """||dL/dh_T|| / ||dL/dh_1|| without attention (large = the gradient vanished)."""
        return float(self.without_attention[-1] / self.without_attention[0])


def _position_norms(model: Seq2Seq, batch: Batch) -> tuple[np.ndarray, np.ndarray]:
    g = model.backward(model.forward(batch))
    B = len(batch)
    total = (B * np.linalg.norm(g.H, axis=2)).mean(axis=0)  # (T,)
    direct = (B * np.linalg.norm(g.H_direct, axis=2)).mean(axis=0)  # (T,)
    return _frozen(total), _frozen(direct)


def encoder_gradients(model: Seq2Seq, batch: Batch, *, plain: Seq2Seq | None = None
                      ) -> EncoderGradients:
    """||dL/dh_j|| per source position for ``model`` (with attention) and ``plain`` (the
    same network without it; default ``model.without_attention()``, sharing every weight).

    With attention each h_j is one step from every context vector, so its gradient stays
    level across j; without it, the gradient reaches h_j only through h_T and the T - j
    recurrent Jacobians in between, and shrinks with the distance from the end when those
    Jacobians contract.
    """
    if model.score is None:
        raise ValueError("model has no attention (score=None); pass the attention model, "
                         "and the plain one as plain=")
    plain = model.without_attention() if plain is None else plain
    if plain.score is not None:
        raise ValueError(f"plain must have score=None; got score={plain.score!r}")
    wa, wa_d = _position_norms(model, batch)
    na, na_d = _position_norms(plain, batch)
    return EncoderGradients(_frozen(np.arange(1, model.length + 1)), wa, na, wa_d, na_d)
