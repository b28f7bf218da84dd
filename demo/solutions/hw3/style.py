"""A sample HW3 answer for the demo: the saliency map and the content loss are right, the Gram
matrix is not normalised by the number of positions, and the extra-credit total variation
loss is missing, so Style transfer losses gets partial credit and the extra credit none."""


def saliency(grads):
    height, width = len(grads[0]), len(grads[0][0])
    return [
        [max(abs(channel[i][j]) for channel in grads) for j in range(width)] for i in range(height)
    ]


def gram_matrix(features):
    return [[sum(a * b for a, b in zip(f, g, strict=True)) for g in features] for f in features]


def content_loss(weight, current, target):
    return weight * sum(
        (c - t) ** 2
        for crow, trow in zip(current, target, strict=True)
        for c, t in zip(crow, trow, strict=True)
    )
