"""A sample HW1 answer for the demo: the forward pass and ReLU are right, the bias gradient
is not (it takes the first row of the upstream gradient instead of summing over the batch),
so "q2 gradient of the bias" fails and Backpropagation gets partial credit."""


def linear_forward(x, w, b):
    return [
        [sum(xi * wi[j] for xi, wi in zip(row, w, strict=True)) + b[j] for j in range(len(b))]
        for row in x
    ]


def linear_backward(dout, x, w):
    dx = [[sum(d * wj for d, wj in zip(row, w_row, strict=True)) for w_row in w] for row in dout]
    dw = [
        [sum(x[n][k] * dout[n][j] for n in range(len(x))) for j in range(len(dout[0]))]
        for k in range(len(w))
    ]
    db = list(dout[0])  # the slip: should be the sum over the batch
    return dx, dw, db


def relu_forward(x):
    return [[max(0.0, v) for v in row] for row in x]


def relu_backward(dout, x):
    return [
        [d if v > 0 else 0.0 for d, v in zip(drow, xrow, strict=True)]
        for drow, xrow in zip(dout, x, strict=True)
    ]
