"""Run MilkDrop's ns-eel expression language in Python (for ``simulate``), without ``compile``.

A Pratt parser turns code such as ``zoom = zoom + 0.1*above(bass,1.2); q1 = sin(time)`` into a tree
of Python closures over a shared variable dict (``env``). Python's own ``compile`` of generated
source was tried first: its parser backtracks on deeply nested parentheses (~20 ms a preset), the
closures build in ~1 ms. Two targets share the tree: ``scalar`` (floats, lazy ``if``; per-frame
code run frame by frame) and ``vector`` (numpy arrays, eager ``np.where``; per-vertex code over a
grid). ns-eel semantics kept where they matter: ``x/0 = 0``, ``sqrt(|x|)``, comparisons give 1/0,
unknown functions give 0 after evaluating their arguments. Code the parser cannot read raises
``EelError``; MilkDrop likewise drops a whole code block that does not compile.
"""

from __future__ import annotations

import re

import numpy as np

_TOKEN = re.compile(
    r"(0x[0-9a-fA-F]+)|(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)"
    r"|(\+=|-=|\*=|/=|%=|\^=|==|!=|<=|>=|&&|\|\||[-+*/%^&|!<>=?:(),;])"
)
_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/|\\\\[^\n]*", re.S)

# Binary operators: precedence (higher binds tighter) and right-associativity.
_BINARY = {"||": (3, False), "&&": (4, False), "|": (5, False), "&": (6, False), "==": (7, False), "!=": (7, False),
           "<": (8, False), ">": (8, False), "<=": (8, False), ">=": (8, False), "+": (9, False), "-": (9, False),
           "*": (10, False), "/": (10, False), "%": (10, False), "^": (11, True)}  # fmt: skip
_ASSIGN = {"=": None, "+=": "+", "-=": "-", "*=": "*", "/=": "/", "%=": "%", "^=": "^"}
_HELPER_OPS = {"/": "div", "%": "mod", "^": "pow", "&": "band", "|": "bor", "&&": "land", "||": "lor"}
_COMPARE = {"==": "__eq__", "!=": "__ne__", "<": "__lt__", ">": "__gt__", "<=": "__le__", ">=": "__ge__"}
# name -> arity; each has an entry in the runtime namespaces (aivj.milk.eel_runtime).
FUNCTIONS = {"sin": 1, "cos": 1, "tan": 1, "asin": 1, "acos": 1, "atan": 1, "atan2": 2, "sqr": 1, "sqrt": 1,
             "pow": 2, "exp": 1, "log": 1, "log10": 1, "abs": 1, "min": 2, "max": 2, "sign": 1, "rand": 1,
             "int": 1, "floor": 1, "ceil": 1, "bnot": 1, "band": 2, "bor": 2, "sigmoid": 2, "invsqrt": 1,
             "fmod": 2}  # fmt: skip
MAX_TOKENS = 20_000


class EelError(ValueError):
    """Code the translator cannot read."""


def tokenize(code: str) -> list[str]:
    """Tokens, lower-cased names, numbers as ``float`` text; stray characters are skipped."""
    out = []
    for hexnum, num, name, op in _TOKEN.findall(_COMMENTS.sub(" ", code)):
        out.append(repr(float(int(hexnum, 16))) if hexnum else repr(float(num)) if num else name.lower() if name else op)
    if len(out) > MAX_TOKENS:
        raise EelError(f"{len(out)} tokens (limit {MAX_TOKENS})")
    return out


class _Compiler:
    """Parses tokens and builds closures in one pass."""

    def __init__(self, tokens: list[str], env: dict, ops: dict, vector: bool) -> None:
        self.t, self.i, self.n = tokens, 0, len(tokens)
        self.env, self.ops, self.vector = env, ops, vector
        self.assigned: set[str] = set()

    def peek(self) -> str | None:
        return self.t[self.i] if self.i < self.n else None

    def take(self) -> str:
        if self.i >= self.n:
            raise EelError("unexpected end of code")
        self.i += 1
        return self.t[self.i - 1]

    def sequence(self, stop: tuple) -> list:
        parts = []
        while self.i < self.n and self.t[self.i] not in stop:
            if self.t[self.i] == ";":
                self.i += 1
                continue
            start = self.i
            parts.append(self.expr(0))
            if self.i == start:
                raise EelError(f"unexpected {self.t[self.i]!r}")
            # an expression followed by another without ";" (a code line without its semicolon):
            # read as two statements, like a line break in MilkDrop's code boxes
        return parts

    def expr(self, min_prec: int):
        left = self.unary()
        while self.i < self.n:
            op = self.t[self.i]
            if op in _ASSIGN and min_prec <= 1:
                self.i += 1
                left = self.assign(left, op)
            elif op == "?" and min_prec <= 2:
                self.i += 1
                a, b = self.expr(2), _const(0.0)
                if self.peek() == ":":
                    self.i += 1
                    b = self.expr(2)
                left = self.cond(left, a, b)
            elif op in _BINARY and _BINARY[op][0] >= min_prec:
                prec, right = _BINARY[op]
                self.i += 1
                left = self.binary(op, left, self.expr(prec if right else prec + 1))
            else:
                return left
        return left

    def assign(self, target, op: str):
        name = getattr(target, "var", None)
        if name is None:
            raise EelError("assignment to a non-variable")
        value = self.expr(1)
        if _ASSIGN[op]:
            value = self.binary(_ASSIGN[op], target, value)
        self.assigned.add(name)
        env = self.env

        def setter():
            env[name] = v = value()
            return v

        return setter

    def unary(self):
        tok = self.take()
        if tok == "-":
            a = self.unary()
            return lambda: -a()
        if tok == "+":
            return self.unary()
        if tok == "!":
            return self.call("bnot", [self.unary()])
        if tok == "(":
            parts = self.sequence((")",))
            self.take()
            return _last(parts)
        if tok[0].isdigit():
            return _const(float(tok))
        if tok[0].isalpha() or tok[0] == "_":
            if self.peek() == "(":
                self.i += 1
                args = []
                while self.peek() != ")":
                    args.append(_last(self.sequence((",", ")"))))
                    if self.peek() == ",":
                        self.i += 1
                self.take()
                return self.call(tok, args)
            return self.variable(tok)
        raise EelError(f"unexpected {tok!r}")

    def variable(self, name: str):
        env = self.env
        env.setdefault(name, 0.0)
        read = lambda: env[name]  # noqa: E731
        read.var = name
        return read

    def cond(self, c, a, b):
        if self.vector:
            where = np.where
            return lambda: where(c() != 0, a(), b())
        return lambda: a() if c() != 0 else b()

    def binary(self, op: str, a, b):
        if op in _COMPARE and self.vector:
            fn = getattr(
                np, {"==": "equal", "!=": "not_equal", "<": "less", ">": "greater", "<=": "less_equal", ">=": "greater_equal"}[op]
            )
            return lambda: fn(a(), b()) * 1.0
        if op in _FACTORIES:
            (ka, xa), (kb, xb) = _operand(a), _operand(b)
            return _FACTORIES[op][ka + kb](xa, xb, self.env)
        fn = self.ops[_HELPER_OPS[op]]
        return lambda: fn(a(), b())

    def call(self, name: str, args: list):
        if name == "if" and len(args) == 3:
            return self.cond(*args)
        if name in ("above", "below", "equal") and len(args) == 2:
            return self.binary({"above": ">", "below": "<", "equal": "=="}[name], *args)
        if FUNCTIONS.get(name) != len(args):
            return _last(args + [_const(0.0)])  # unknown (megabuf, loop, ...) or wrong arity: 0
        fn = self.ops[name]
        if len(args) == 1:
            (a,) = args
            return lambda: fn(a())
        a, b = args
        return lambda: fn(a(), b())


def _operand(node) -> tuple[str, object]:
    """("v", name) for a variable read, ("c", value) for a constant, ("n", closure) otherwise."""
    if hasattr(node, "var"):
        return "v", node.var
    if hasattr(node, "const"):
        return "c", node.const
    return "n", node


def _factories() -> dict[str, dict]:
    """Closure factories for + - * and scalar comparisons, one per operand kind pair.

    Reading a variable or constant inline instead of through its closure halves the calls in the
    frame loop (the simulation's hot path); the factories are generated once at import.
    """
    read = {"n": "{}()", "v": "env[{}]", "c": "{}"}
    ops = {"+": "{} + {}", "-": "{} - {}", "*": "{} * {}"}
    ops |= {op: "1.0 if {} " + op + " {} else 0.0" for op in ("==", "!=", "<", ">", "<=", ">=")}
    src, names = [], {}
    for k, (op, template) in enumerate(ops.items()):
        for ka in "nvc":
            for kb in "nvc":
                body = template.format(read[ka].format("a"), read[kb].format("b"))
                src.append(f"def f{k}_{ka}{kb}(a, b, env):\n    return lambda: {body}")
                names.setdefault(op, {})[ka + kb] = f"f{k}_{ka}{kb}"
    scope: dict = {}
    exec("\n".join(src), scope)  # noqa: S102 - fixed templates, no input text
    return {op: {kinds: scope[name] for kinds, name in table.items()} for op, table in names.items()}


_FACTORIES = _factories()


def _const(value: float):
    read = lambda: value  # noqa: E731
    read.const = value
    return read


def _last(parts: list):
    if not parts:
        return _const(0.0)
    if len(parts) == 1:
        return parts[0]
    head, tail = parts[:-1], parts[-1]

    def run():
        for part in head:
            part()
        return tail()

    return run


def compile_eel(code: str, env: dict, ops: dict, vector: bool = False) -> tuple[list, set[str]]:
    """Statement closures for ``code`` (reading and writing ``env``) and the variables it assigns.

    Every variable the code reads or writes gets a 0.0 entry in ``env`` unless it has one.
    """
    compiler = _Compiler(tokenize(code), env, ops, vector)
    try:
        statements = compiler.sequence(())
    except RecursionError:
        raise EelError("expression nested too deeply") from None
    return statements, compiler.assigned
