"""Generated submissions for the similarity tests: starter code handed out, a solution on
top of it (about 60 lines), the same with variables renamed, functions reordered and a
comment added, and an independent solution written another way."""

STARTER = '''"""Problem set 3: matrix helpers. Fill in the functions marked TODO."""

import math


def read_matrix(path):
    """Reads a whitespace-separated matrix from a file."""
    rows = []
    with open(path) as handle:
        for line in handle:
            if line.strip():
                rows.append([float(x) for x in line.split()])
    return rows


def print_matrix(matrix):
    for row in matrix:
        print(" ".join(f"{value:8.3f}" for value in row))
'''

ORIGINAL = (
    STARTER
    + """

def transpose(matrix):
    result = []
    for col in range(len(matrix[0])):
        new_row = []
        for row in range(len(matrix)):
            new_row.append(matrix[row][col])
        result.append(new_row)
    return result


def multiply(left, right):
    n, m, p = len(left), len(right), len(right[0])
    product = [[0.0] * p for _ in range(n)]
    for i in range(n):
        for j in range(p):
            total = 0.0
            for k in range(m):
                total += left[i][k] * right[k][j]
            product[i][j] = total
    return product


def frobenius(matrix):
    squares = 0.0
    for row in matrix:
        for value in row:
            squares += value * value
    return math.sqrt(squares)


def trace(matrix):
    acc = 0
    for idx in range(min(len(matrix), len(matrix[0]))):
        acc = acc + matrix[idx][idx]
    return acc
"""
)

RENAMED = (
    STARTER
    + """

def trace(mat):
    # sum of the diagonal
    s = 0
    for q in range(min(len(mat), len(mat[0]))):
        s = s + mat[q][q]
    return s


def frobenius(mat):
    sq = 0.0
    for r in mat:
        for v in r:
            sq += v * v
    return math.sqrt(sq)


def multiply(a, b):
    rows_a, inner, cols_b = len(a), len(b), len(b[0])
    out = [[0.0] * cols_b for _ in range(rows_a)]
    for x in range(rows_a):
        for y in range(cols_b):
            acc = 0.0
            for z in range(inner):
                acc += a[x][z] * b[z][y]
            out[x][y] = acc
    return out


def transpose(mat):
    t = []
    for c in range(len(mat[0])):
        nr = []
        for r in range(len(mat)):
            nr.append(mat[r][c])
        t.append(nr)
    return t
"""
)

INDEPENDENT = (
    STARTER
    + """

def transpose(matrix):
    return [list(column) for column in zip(*matrix)]


def multiply(left, right):
    columns = transpose(right)
    return [[sum(a * b for a, b in zip(row, column)) for column in columns] for row in left]


def frobenius(matrix):
    return math.sqrt(sum(value ** 2 for row in matrix for value in row))


def trace(matrix):
    return sum(matrix[i][i] for i in range(min(len(matrix), len(matrix[0]))))
"""
)
