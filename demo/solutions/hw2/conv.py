"""A sample HW2 answer for the demo: every part right, extra credit included."""


def pad(image, padding):
    width = len(image[0]) + 2 * padding
    edge = [[0] * width for _ in range(padding)]
    return edge + [[0] * padding + row + [0] * padding for row in image] + [r[:] for r in edge]


def windows(image, height, width, stride):
    """The top-left corners of every window that fits."""
    for i in range(0, len(image) - height + 1, stride):
        yield i, [j for j in range(0, len(image[0]) - width + 1, stride)]


def conv2d(image, kernel, stride=1, padding=0):
    image = pad(image, padding) if padding else image
    kh, kw = len(kernel), len(kernel[0])
    return [
        [
            sum(image[i + a][j + b] * kernel[a][b] for a in range(kh) for b in range(kw))
            for j in cols
        ]
        for i, cols in windows(image, kh, kw, stride)
    ]


def max_pool2d(image, size, stride):
    return [
        [max(image[i + a][j + b] for a in range(size) for b in range(size)) for j in cols]
        for i, cols in windows(image, size, size, stride)
    ]
