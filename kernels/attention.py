"""Attention over encoder states: alignment scores, softmax weights, context vectors, gradients.

Encoder states H (B, T, d_h) (h_t for t = 1..T), decoder states S (B, Q, d_s) (one s per
decoder step q). Scores e[b, q, t], then

    a = softmax_t(e)              attention weights, (B, Q, T)
    context = sum_t a_t h_t       (B, Q, d_h)

Score functions (parameters in brackets):
    dot          e_t = h_t . s                                (d_h = d_s; Luong)
    scaled_dot   e_t = h_t . s / sqrt(d_h)                   (Vaswani et al.)
    general      e_t = h_t^T W_a s          [W_a (d_h, d_s)]  (Luong)
    additive     e_t = v^T tanh(W1 h_t + W2 s)                (Bahdanau)
                                 [W1 (d_a, d_h), W2 (d_a, d_s), v (d_a,)]
    cosine       e_t = beta cos(h_t, s)     [beta ()]        (content-based, Graves et al.)
                 (a zero vector has cosine 0 with everything, and no gradient)
    location     e = W_a s                  [W_a (T, d_s)]    (Luong; ignores H's contents)

Backward takes dL/dcontext (B, Q, d_h) and dL/da (B, Q, T) and returns dL/dH, dL/dS and the
parameter gradients, summed over the batch and the decoder steps.
"""

import numpy as np

from ._flags import kernel


@kernel
def put(dst, src, scale=1.0):
    """dst[...] = scale * src for 2-D arrays (a loop: numba compiles slice assignment slowly)."""
    for i in range(dst.shape[0]):
        for j in range(dst.shape[1]):
            dst[i, j] = scale * src[i, j]


@kernel
def add(dst, src):
    """dst += src for 2-D arrays."""
    for i in range(dst.shape[0]):
        for j in range(dst.shape[1]):
            dst[i, j] += src[i, j]


@kernel
def softmax_context(E, H):
    """Weights A = softmax(E) over the last axis (max-shifted) and contexts C = A H.

    E (B, Q, T), H (B, T, d_h) -> A (B, Q, T), C (B, Q, d_h).
    """
    B, Q, T = E.shape
    A = np.empty_like(E)
    C = np.empty((B, Q, H.shape[2]), dtype=H.dtype)
    for b in range(B):
        for q in range(Q):
            e = E[b, q]
            m = np.max(e)
            total = 0.0
            for t in range(T):
                A[b, q, t] = np.exp(e[t] - m)
                total += A[b, q, t]
            for t in range(T):
                A[b, q, t] /= total
        put(C[b], np.dot(A[b], H[b]))
    return A, C


@kernel
def softmax_context_backward(A, H, dC, dA):
    """From dL/dC (B, Q, d_h) and dL/dA (B, Q, T): dL/dE (B, Q, T) and the context's dL/dH."""
    B, Q, T = A.shape
    dE = np.empty_like(A)
    dH = np.empty_like(H)
    for b in range(B):
        g = np.dot(dC[b], H[b].T.copy())  # (Q, T): total dL/da
        add(g, dA[b])
        for q in range(Q):
            inner = np.dot(A[b, q], g[q])
            for t in range(T):
                dE[b, q, t] = A[b, q, t] * (g[q, t] - inner)
        put(dH[b], np.dot(A[b].T.copy(), dC[b]))
    return dE, dH


@kernel
def dot_scores(H, S, scale):
    """e = scale * h_t . s_q: (B, Q, T)."""
    B, T, _ = H.shape
    Q = S.shape[1]
    E = np.empty((B, Q, T), dtype=H.dtype)
    for b in range(B):
        put(E[b], np.dot(S[b], H[b].T.copy()), scale)
    return E


@kernel
def dot_scores_backward(H, S, scale, dE):
    """dL/dH (B, T, d), dL/dS (B, Q, d) of e = scale * h . s."""
    dH = np.empty_like(H)
    dS = np.empty_like(S)
    for b in range(H.shape[0]):
        put(dH[b], np.dot(dE[b].T.copy(), S[b]), scale)
        put(dS[b], np.dot(dE[b], H[b]), scale)
    return dH, dS


@kernel
def general_scores(H, S, Wa):
    """e = h_t^T W_a s_q: (B, Q, T)."""
    B, T, _ = H.shape
    E = np.empty((B, S.shape[1], T), dtype=H.dtype)
    for b in range(B):
        put(E[b], np.dot(np.dot(S[b], Wa.T.copy()), H[b].T.copy()))
    return E


@kernel
def general_scores_backward(H, S, Wa, dE):
    """dL/dH, dL/dS, dL/dW_a of e = h^T W_a s."""
    dH = np.empty_like(H)
    dS = np.empty_like(S)
    dWa = np.zeros_like(Wa)
    for b in range(H.shape[0]):
        WS = np.dot(S[b], Wa.T.copy())  # (Q, d_h): W_a s_q
        G = np.dot(dE[b].T.copy(), S[b])  # (T, d_s)
        put(dH[b], np.dot(dE[b].T.copy(), WS))
        put(dS[b], np.dot(np.dot(dE[b], H[b]), Wa))
        add(dWa, np.dot(H[b].T.copy(), G))
    return dH, dS, dWa


@kernel
def additive_scores(H, S, W1, W2, v):
    """e = v^T tanh(W1 h_t + W2 s_q): E (B, Q, T) and U = tanh(...) (B, Q, T, d_a)."""
    B, T, _ = H.shape
    Q = S.shape[1]
    da = v.shape[0]
    E = np.empty((B, Q, T), dtype=H.dtype)
    U = np.empty((B, Q, T, da), dtype=H.dtype)
    W1T = W1.T.copy()
    W2T = W2.T.copy()
    for b in range(B):
        P = np.dot(H[b], W1T)  # (T, d_a)
        R = np.dot(S[b], W2T)  # (Q, d_a)
        for q in range(Q):
            for t in range(T):
                acc = 0.0
                for k in range(da):
                    u = np.tanh(P[t, k] + R[q, k])
                    U[b, q, t, k] = u
                    acc += v[k] * u
                E[b, q, t] = acc
    return E, U


@kernel
def additive_scores_backward(H, S, W1, W2, v, U, dE):
    """dL/dH, dL/dS, dL/dW1, dL/dW2, dL/dv of e = v^T tanh(W1 h + W2 s)."""
    B, T, _ = H.shape
    Q = S.shape[1]
    da = v.shape[0]
    dH = np.empty_like(H)
    dS = np.empty_like(S)
    dW1 = np.zeros_like(W1)
    dW2 = np.zeros_like(W2)
    dv = np.zeros_like(v)
    for b in range(B):
        dP = np.zeros((T, da), dtype=H.dtype)  # dL/d(W1 h_t)
        dR = np.zeros((Q, da), dtype=H.dtype)  # dL/d(W2 s_q)
        for q in range(Q):
            for t in range(T):
                g = dE[b, q, t]
                for k in range(da):
                    u = U[b, q, t, k]
                    dv[k] += g * u
                    z = g * v[k] * (1.0 - u * u)
                    dP[t, k] += z
                    dR[q, k] += z
        add(dW1, np.dot(dP.T.copy(), H[b]))
        add(dW2, np.dot(dR.T.copy(), S[b]))
        put(dH[b], np.dot(dP, W1))
        put(dS[b], np.dot(dR, W2))
    return dH, dS, dW1, dW2, dv


@kernel
def cosine_scores(H, S, beta):
    """e = beta cos(h_t, s_q): E (B, Q, T), K = cos (B, Q, T), |h| (B, T), |s| (B, Q)."""
    B, T, _ = H.shape
    Q = S.shape[1]
    nh = np.empty((B, T), dtype=H.dtype)
    ns = np.empty((B, Q), dtype=H.dtype)
    K = np.empty((B, Q, T), dtype=H.dtype)
    for b in range(B):
        for t in range(T):
            nh[b, t] = np.sqrt(np.dot(H[b, t], H[b, t]))
        for q in range(Q):
            ns[b, q] = np.sqrt(np.dot(S[b, q], S[b, q]))
        D = np.dot(S[b], H[b].T.copy())  # (Q, T)
        for q in range(Q):
            for t in range(T):
                den = nh[b, t] * ns[b, q]
                K[b, q, t] = D[q, t] / den if den > 0.0 else 0.0
    return beta * K, K, nh, ns


@kernel
def cosine_scores_backward(H, S, beta, K, nh, ns, dE):
    """dL/dH, dL/dS, dL/dbeta of e = beta h.s / (|h| |s|)."""
    B, T, d = H.shape
    Q = S.shape[1]
    dH = np.zeros_like(H)
    dS = np.zeros_like(S)
    dbeta = 0.0
    for b in range(B):
        for q in range(Q):
            for t in range(T):
                g = dE[b, q, t]
                dbeta += g * K[b, q, t]
                den = nh[b, t] * ns[b, q]
                if den == 0.0:
                    continue
                gk = beta * g
                k = K[b, q, t]
                fh = k / (nh[b, t] * nh[b, t])
                fs = k / (ns[b, q] * ns[b, q])
                for i in range(d):
                    dH[b, t, i] += gk * (S[b, q, i] / den - fh * H[b, t, i])
                    dS[b, q, i] += gk * (H[b, t, i] / den - fs * S[b, q, i])
    return dH, dS, dbeta


@kernel
def location_scores(S, Wa):
    """e = W_a s_q: (B, Q, T) with T = W_a.shape[0]."""
    B, Q, _ = S.shape
    E = np.empty((B, Q, Wa.shape[0]), dtype=S.dtype)
    WaT = Wa.T.copy()
    for b in range(B):
        put(E[b], np.dot(S[b], WaT))
    return E


@kernel
def location_scores_backward(S, Wa, dE):
    """dL/dS, dL/dW_a of e = W_a s."""
    dS = np.empty_like(S)
    dWa = np.zeros_like(Wa)
    for b in range(S.shape[0]):
        put(dS[b], np.dot(dE[b], Wa))
        add(dWa, np.dot(dE[b].T.copy(), S[b]))
    return dS, dWa
