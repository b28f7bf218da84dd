"""A correct HW answer for trying the demo: works on lists or on torch tensors."""


def linear_forward(x, w, b):
    if hasattr(x, "matmul"):
        return x.matmul(w) + b
    return [
        [sum(xi * wi[j] for xi, wi in zip(row, w, strict=True)) + b[j] for j in range(len(b))]
        for row in x
    ]


def relu(x):
    if hasattr(x, "clamp"):
        return x.clamp(min=0)
    return [[max(0.0, v) for v in row] for row in x]
