"""Text -> AST. The lark parser is built once per process; lark types stop here.

lark builds the AST while it parses (dsl/ast_builder.py is its inline
transformer), so no parse tree is made and walked a second time; its lexer
is dsl/lexer.py, and text that parses takes the fast path of dsl/fast_lalr.py
over the same tables. The parse tables are cached in the user's cache
directory (lark's `cache=`), which saves building them from grammar.lark at
every start.
"""
from __future__ import annotations

import os
import threading
from functools import lru_cache
from importlib import resources

from lark import Lark, Token
from lark.exceptions import LarkError, UnexpectedInput, VisitError

from . import ast
from .ast_builder import DURATION_UNITS, AstBuilder, InvalidSyntax, parse_duration  # noqa: F401 (re-exported)
from .diagnostics import Diagnostic
from .fast_lalr import FastParser
from .gcpause import gc_paused
from .lexer import FunnelLexer
from .source import Source, Span
from .syntax_errors import describe_syntax_error


class _Parser:
    """The lark parser with its builder and the comments the lexer set aside during one parse."""

    def __init__(self) -> None:
        self.builder = AstBuilder()
        self.comments: list[Token] = []
        self.lock = threading.Lock()
        grammar = resources.files("funnelspec").joinpath("grammar.lark").read_text(encoding="utf-8")
        self.lark = Lark(
            grammar,
            parser="lalr",
            lexer=FunnelLexer,
            keep_all_tokens=True,
            maybe_placeholders=False,
            transformer=self.builder,
            lexer_callbacks={"COMMENT": self.comments.append},
            cache=_cache_file(grammar),
        )
        self.fast = FastParser(self.lark, self.comments)

    def parse(self, text: str):
        """(imports, funnels); raises lark's exceptions or InvalidSyntax for bad text."""
        result = self.fast.parse(text)
        if result is None:
            self.comments.clear()
            result = self.lark.parse(text)
        return result


def _cache_file(grammar: str) -> str | bool:
    """Where lark keeps the parse tables; False (no cache) when there is no private cache folder
    (dsl/user_cache.py), or the file there is not this user's alone: lark loads it with pickle.

    lark stores a hash of the grammar and of its own version in the file and
    rebuilds the tables when either changed. The grammar's checksum is in the
    name too, so that checkouts of different grammars on one machine keep a
    file each instead of rebuilding one file in turn (about a second each time).
    """
    import zlib

    from .user_cache import folder, private_file

    where = folder()
    if where is None:
        return False
    import lark

    checksum = zlib.crc32(grammar.encode("utf-8"))
    path = os.path.join(where, f"grammar-lark{lark.__version__}-{checksum:08x}.cache")
    return path if not os.path.lexists(path) or private_file(path) else False


@lru_cache(maxsize=1)
def _parser() -> _Parser:
    return _Parser()


def _lark() -> Lark:
    return _parser().lark


def parse_source(source: Source) -> tuple[ast.FileAst | None, list[Diagnostic]]:
    """Parse one file. A syntax error gives (None, [diagnostic]); never raises for bad text."""
    from . import codes

    parser = _parser()
    with parser.lock, gc_paused():
        parser.builder.file = source.path
        parser.comments.clear()
        try:
            imports, funnels = parser.parse(source.text)
            comments = tuple(ast.Comment(str(t), parser.builder.tok_span(t)) for t in parser.comments)
        except UnexpectedInput as err:
            return None, [describe_syntax_error(source, err, parser.lark)]
        except (InvalidSyntax, VisitError) as err:
            problem = err.orig_exc if isinstance(err, VisitError) else err
            if not isinstance(problem, InvalidSyntax):
                raise
            return None, [codes.diagnostic(problem.code, problem.message, problem.span, hint=problem.hint)]
        except LarkError as err:  # any other lark complaint is still about the user's text
            return None, [codes.diagnostic("FNL001", f"cannot parse: {err}", source.span_at(0))]
        finally:
            parser.comments.clear()
            parser.builder.depths.clear()
    whole = Span(source.path, 1, 1, len(source.lines), len(source.lines[-1]) + 1, 0, len(source.text))
    return ast.FileAst(source.path, imports, funnels, comments, whole), []


def parse_text(text: str, path: str = "<text>") -> tuple[ast.FileAst | None, list[Diagnostic]]:
    return parse_source(Source(path, text))
