"""The messages of ``core`` in the reader's language.

``core`` (which never imports Odoo) writes every message a client or an
administrator reads as ``_lt(template, **params)`` (``core/messages.py``):
English text that keeps its constant template and parameters. Odoo's
translation export extracts those templates into ``i18n/secure_api.pot``
(17.0, 18.0 and 19.0 all extract the ``_`` and ``_lt`` keywords from every
Python file of a module, ``core/`` included), so a translation of the module
holds them; here they are looked up the way ``_()`` looks up the addon's own
strings: in the module's code translations for the language.
"""

from odoo.tools.translate import code_translations

from .core.messages import Message

MODULE = "secure_api"


def _no_translation(source):
    return None


def gettext(lang):
    """``source -> translation`` (or ``None``) of this module for ``lang``."""
    if not lang or lang == "en_US":
        return _no_translation
    return code_translations.get_python_translations(MODULE, lang).get


def text_of(message):
    """The text of ``message``: an exception's core message when it carries
    one (``ApiError.message``, or a core message as its only argument), else
    ``str(exception)``; any other value as it is."""
    if isinstance(message, BaseException):
        text = getattr(message, "message", None)
        if isinstance(text, Message):
            return text
        args = message.args
        if len(args) == 1 and isinstance(args[0], Message):
            return args[0]
        return str(message)
    return message


def translate(env, message, lang=None):
    """``message`` in ``lang`` (by default the environment's language).

    ``message`` is a core message, another text (returned as it is), or an
    exception (its message). Without a translation, the English text.
    """
    message = text_of(message)
    if not isinstance(message, Message):
        return message
    return message.translate(gettext(lang or env.lang))
