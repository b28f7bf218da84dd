"""A sample HW4 answer for the demo: the RNN cell and the causal mask are right, but the
attention scores are not divided by the square root of d, so "q2 attention scores are
scaled by the square root of d" fails and Attention gets partial credit."""

import math


def rnn_step(x, h, wx, wh, b):
    return [
        math.tanh(
            sum(xi * wx[i][j] for i, xi in enumerate(x))
            + sum(hi * wh[i][j] for i, hi in enumerate(h))
            + b[j]
        )
        for j in range(len(b))
    ]


def softmax(xs):
    top = max(xs)
    exps = [math.exp(x - top) for x in xs]
    return [e / sum(exps) for e in exps]


def attention_weights(q, k, causal=False):
    rows = []
    for n, query in enumerate(q):
        # The slip: the scores should be divided by sqrt(d).
        scores = [sum(a * b for a, b in zip(query, key, strict=True)) for key in k]
        rows.append(softmax(scores[: n + 1] if causal else scores))
    return rows


def attention(q, k, v, causal=False):
    return [
        [sum(w * value[j] for w, value in zip(weights, v, strict=False)) for j in range(len(v[0]))]
        for weights in attention_weights(q, k, causal)
    ]
