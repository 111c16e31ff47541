"""The syntax-tree classes (dsl/ast.py) behave as `@dataclass(frozen=True)` classes do: their methods are
written by dsl/ast.py `_add_methods` in one compile instead of by the decorator, one compile each."""
from __future__ import annotations

import dataclasses
import inspect
import pickle

import pytest

from funnelspec.dsl import ast
from funnelspec.dsl.source import Span

SPAN = Span("x.funnel", 1, 2, 3, 4, 5, 6)


def reference(cls):
    """The same class as the decorator makes it."""
    made = dataclasses.make_dataclass(cls.__name__, [(f.name, f.type, dataclasses.field(default=f.default))
                                                     if f.default is not dataclasses.MISSING else (f.name, f.type)
                                                     for f in dataclasses.fields(cls)], frozen=True)
    made.__doc__ = cls.__doc__ if not cls.__doc__.startswith(f"{cls.__name__}(") else made.__doc__
    return made


def values(cls, seed: int) -> dict:
    return {f.name: SPAN if f.name == "span" else (f"v{seed}", seed, (seed,)) for f in dataclasses.fields(cls)}


@pytest.mark.parametrize("cls", ast._NODES, ids=lambda c: c.__name__)
def test_a_node_class_behaves_as_the_frozen_dataclass(cls):
    ref = reference(cls)
    assert str(inspect.signature(cls)) == str(inspect.signature(ref))
    assert cls.__doc__ == ref.__doc__ or not cls.__doc__.startswith(f"{cls.__name__}(")
    assert [f.name for f in dataclasses.fields(cls)] == [f.name for f in dataclasses.fields(ref)]
    ours, theirs = cls(**values(cls, 1)), ref(**values(cls, 1))
    assert repr(ours) == repr(theirs)
    assert hash(ours) == hash(theirs)
    assert ours == cls(**values(cls, 1)) and ours != cls(**values(cls, 2)) and ours != theirs
    assert (ours == 1) is False and ours.__eq__(1) is NotImplemented
    field = dataclasses.fields(cls)[0].name
    for action in (lambda o: setattr(o, field, 0), lambda o: setattr(o, "other", 0), lambda o: delattr(o, field)):
        with pytest.raises(dataclasses.FrozenInstanceError) as mine:
            action(ours)
        with pytest.raises(dataclasses.FrozenInstanceError) as reference_error:
            action(theirs)
        assert str(mine.value) == str(reference_error.value)
    changed = dataclasses.replace(ours, **{field: "changed"})
    assert getattr(changed, field) == "changed" and type(changed) is cls
    assert pickle.loads(pickle.dumps(ours)) == ours
    assert dataclasses.asdict(ours) == dataclasses.asdict(theirs)
    assert ours.__match_args__ == theirs.__match_args__


def test_defaults_are_the_fields_defaults():
    stage = ast.StageDecl(ast.Ident("s", SPAN), None, (), None, None, (), (), (), SPAN)
    assert (stage.block, stage.before, stage.after) == (None, None, None)
