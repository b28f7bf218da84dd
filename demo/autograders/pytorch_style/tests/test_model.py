"""HW1-HW4 style: PyTorch where it is installed, on the GPU the sandbox was given
(CUDA_VISIBLE_DEVICES) or else the CPU; plain Python otherwise, so the demo runs anywhere.
The student hands in model.py with linear_forward(x, w, b) and relu(x)."""

import unittest

try:  # pragma: no cover - depends on the worker's image
    import torch
except ImportError:
    torch = None


def weight(w, visibility="visible"):
    def deco(fn):
        fn.__weight__ = w
        fn.__visibility__ = visibility
        return fn

    return deco


def tensor(rows):
    if torch is None:
        return rows
    device = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.tensor(rows, dtype=torch.float32, device=device)


def as_lists(value):
    return value.tolist() if hasattr(value, "tolist") else value


class TestModel(unittest.TestCase):
    @weight(50)
    def test_linear_forward(self):
        """linear_forward computes x @ w + b"""
        from model import linear_forward

        out = linear_forward(tensor([[1.0, 2.0]]), tensor([[1.0], [1.0]]), tensor([0.5]))
        self.assertEqual(as_lists(out), [[3.5]])

    @weight(50)
    def test_relu(self):
        """relu zeroes negatives"""
        from model import relu

        self.assertEqual(as_lists(relu(tensor([[-1.0, 2.0]]))), [[0.0, 2.0]])
