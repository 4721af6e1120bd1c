"""Translatable messages, without a translation framework.

``core`` never imports Odoo, yet what it tells a client or an administrator
must be translatable. Every such text is written ``_lt(template, **params)``:

- the result is a :class:`Message`, a ``str`` holding the English text, so
  logs, comparisons, JSON bodies and everything else that reads it as text
  see exactly what they saw before;
- it also keeps the constant ``template`` and its ``params``, so the Odoo
  layer translates the template into the reader's language and formats it
  again (``i18n_messages.translate``).

Odoo's translation export reads the ``_lt("...")`` calls of every Python file
of the addon, ``core/`` included, into ``i18n/secure_api.pot``; the templates
use Odoo's ``%(name)s`` placeholders, like the addon's own ``_()`` strings.
A parameter that is itself a :class:`Message` is translated with it.
"""


def _format(template, params):
    return template % params if params else template


class Message(str):
    """English text that remembers its template and parameters."""

    def __new__(cls, template, params=None):
        params = dict(params or {})
        message = super().__new__(cls, _format(template, params))
        message.template = template
        message.params = params
        return message

    def __getnewargs__(self):
        # copy and pickle rebuild it from the template, not from the text.
        return (self.template, self.params)

    def translate(self, gettext):
        """The text in another language, as a plain ``str``.

        ``gettext(source)`` returns the translation of a template, or a false
        value when there is none. Parameters that are messages are translated
        too; a translation that does not fit the parameters falls back to the
        English text.

        Given a character table instead (``str.translate``'s argument),
        it does what ``str.translate`` does.
        """
        if not callable(gettext):
            return str.translate(self, gettext)
        translation = gettext(self.template) or self.template
        params = {
            key: value.translate(gettext) if isinstance(value, Message) else value
            for key, value in self.params.items()
        }
        try:
            return _format(translation, params)
        except (TypeError, ValueError, KeyError):
            return _format(self.template, params)


def _lt(template, **params):
    """A translatable message: ``template`` (a constant, ``%(name)s``
    placeholders) formatted with ``params``."""
    return Message(template, params)


def translate(text, gettext):
    """``text`` translated through ``gettext`` when it is a :class:`Message`;
    any other text is returned as it is."""
    return text.translate(gettext) if isinstance(text, Message) else text
