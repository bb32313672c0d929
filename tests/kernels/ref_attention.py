"""Slow, obvious twin of kernels/attention.py, for tests only: one decoder state at a time.

For encoder states H (T, d_h) and one decoder state s (d_s,): scores e (T,), weights
a = softmax(e), context c = a @ H; gradients by the chain rule written out per score.
"""

import numpy as np


def scores(score, H, s, p):
    if score == "dot":
        return H @ s
    if score == "scaled_dot":
        return H @ s / np.sqrt(H.shape[1])
    if score == "general":
        return np.array([h @ p["W_a"] @ s for h in H])
    if score == "additive":
        return np.array([p["v"] @ np.tanh(p["W1"] @ h + p["W2"] @ s) for h in H])
    if score == "cosine":
        out = []
        for h in H:
            den = np.linalg.norm(h) * np.linalg.norm(s)
            out.append(h @ s / den if den > 0 else 0.0)
        return float(p["beta"]) * np.array(out)
    if score == "location":
        return p["W_a"] @ s
    raise ValueError(score)


def attend(score, H, s, p):
    """(e, a, context) for one decoder state."""
    e = scores(score, H, s, p)
    w = np.exp(e - e.max())
    a = w / w.sum()
    return e, a, a @ H


def backward(score, H, s, p, dc, da):
    """(dL/dH, dL/ds, {name: dL/dparam}) for one decoder state."""
    e, a, _ = attend(score, H, s, p)
    g = da + H @ dc  # total dL/da_t
    de = a * (g - a @ g)  # softmax backward
    dH = np.outer(a, dc)  # through the context
    ds = np.zeros_like(s)
    dp = {}
    if score in ("dot", "scaled_dot"):
        c = 1.0 if score == "dot" else 1 / np.sqrt(H.shape[1])
        dH += c * np.outer(de, s)
        ds += c * de @ H
    elif score == "general":
        W = p["W_a"]
        dH += np.outer(de, W @ s)
        ds += W.T @ (de @ H)
        dp["W_a"] = sum(de[t] * np.outer(H[t], s) for t in range(len(H)))
    elif score == "additive":
        W1, W2, v = p["W1"], p["W2"], p["v"]
        dW1, dW2, dv = np.zeros_like(W1), np.zeros_like(W2), np.zeros_like(v)
        for t, h in enumerate(H):
            u = np.tanh(W1 @ h + W2 @ s)
            dv += de[t] * u
            dz = de[t] * v * (1 - u**2)
            dW1 += np.outer(dz, h)
            dW2 += np.outer(dz, s)
            dH[t] += W1.T @ dz
            ds += W2.T @ dz
        dp = {"W1": dW1, "W2": dW2, "v": dv}
    elif score == "cosine":
        beta = float(p["beta"])
        ns = np.linalg.norm(s)
        dbeta = 0.0
        for t, h in enumerate(H):
            nh = np.linalg.norm(h)
            if nh * ns == 0:
                continue
            k = h @ s / (nh * ns)
            dbeta += de[t] * k
            dH[t] += beta * de[t] * (s / (nh * ns) - k * h / nh**2)
            ds += beta * de[t] * (h / (nh * ns) - k * s / ns**2)
        dp = {"beta": np.array(dbeta)}
    elif score == "location":
        ds += p["W_a"].T @ de
        dp = {"W_a": np.outer(de, s)}
    return dH, ds, dp
