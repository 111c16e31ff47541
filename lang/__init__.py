"""The language of the reports' words: the message catalogues, and which language is in use now.

The English words are written in the code, marked `_("…")` (`ngettext` where
a count decides the form); `ru.po` beside this module holds their Russian
translations. The catalogue is read from the .po source itself (babel parses
it, once a process): nothing is compiled at build time, so a fresh clone,
`pip install -e .` and a wheel all read the same file the translators edit.

The language in use is a context variable, set by `using("ru")` around the
building and rendering of a report: the wording code reads it instead of
passing a language through every function. Machine formats (JSON, CSV)
render under `using("en")` so their text does not depend on `--lang`.
"""
from __future__ import annotations

import contextlib
import contextvars
import gettext as _gettext
import io
from functools import lru_cache
from importlib import resources

LANGUAGES = ("en", "ru")            # `en` is the words in the code; every other has a catalogue, NAME.po
DEFAULT = "en"
DOMAIN = "funnelspec"

_current: contextvars.ContextVar[str] = contextvars.ContextVar("funnelspec_language", default=DEFAULT)


def current() -> str:
    """The language reports are worded in now: `en` or `ru`."""
    return _current.get()


@contextlib.contextmanager
def using(language: str | None):
    """Word what is built and rendered inside in `language` (None: keep the one in use)."""
    if language is None:
        yield current()
        return
    if language not in LANGUAGES:
        raise ValueError(f"unknown language `{language}`; one of: {', '.join(LANGUAGES)}")
    token = _current.set(language)
    try:
        yield language
    finally:
        _current.reset(token)


def catalogue_path(language: str):
    return resources.files(__package__).joinpath(f"{language}.po")


@lru_cache(maxsize=None)
def catalogue(language: str):
    """The babel Catalog of `language`, read from its .po file."""
    from babel.messages.pofile import read_po

    with catalogue_path(language).open("rb") as handle:
        return read_po(handle, locale=language, domain=DOMAIN)


@lru_cache(maxsize=None)
def _translations(language: str) -> _gettext.NullTranslations:
    if language == DEFAULT:
        return _gettext.NullTranslations()
    from babel.messages.mofile import write_mo

    compiled = io.BytesIO()
    write_mo(compiled, catalogue(language))      # fuzzy entries are left out: they fall back to English
    compiled.seek(0)
    return _gettext.GNUTranslations(compiled)


def _(message: str) -> str:
    """`message` in the language in use."""
    return _translations(current()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form for `n` of the message (Russian has three), in the language in use."""
    return _translations(current()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """`message` as meant in `context` (the same English word may need two Russian ones)."""
    return _translations(current()).pgettext(context, message)


def N_(message: str) -> str:
    """Marks a message for the catalogue where it is defined; `_` translates it where it is shown."""
    return message
