"""Split a shell command line into words the way a POSIX shell would, keeping Jinja verbatim.

Monarch DAGs run ``spark-submit`` from Bash tasks whose commands are Jinja templates: Airflow renders
``{{ ds }}`` *before* the shell sees the line, so a template expression is one opaque piece of a word
even when it holds spaces or quotes. :mod:`shlex` would split ``job_{{ ds }}`` in three and keeps a
backslash-newline continuation as a newline, hence this small lexer. It understands quoting
(single, double, backslash), continuations, comments and command separators (``;``, ``&&``, ``||``,
``|``, ``&``, newline); it does not evaluate anything: ``$VAR`` and ``$(...)`` stay as written, and
redirections or subshells are refused, since a command using them is not one plain spark-submit.
"""

from __future__ import annotations

_JINJA_CLOSERS = {"{{": "}}", "{%": "%}", "{#": "#}"}
_SEPARATORS = ";&|\n"
_REFUSED = "<>()"
_DOUBLE_QUOTE_ESCAPES = '$`"\\\n'


class _Lexer:
    """One pass over the text; ``commands`` collects lists of words."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0
        self.commands: list[list[str]] = []
        self.words: list[str] = []
        self.word: list[str] = []
        self.in_word = False

    def run(self) -> list[list[str]]:
        text = self.text
        while self.position < len(text):
            char = text[self.position]
            if text.startswith(tuple(_JINJA_CLOSERS), self.position) and self._jinja():
                continue
            if char == "\\":
                self._escape()
            elif char == "'":
                self._single_quoted()
            elif char == '"':
                self._double_quoted()
            elif char in " \t\r":
                self._end_word()
                self.position += 1
            elif char in _SEPARATORS:
                self._end_command()
                self.position += 1
            elif char in _REFUSED:
                raise ValueError(
                    f"the command uses {char!r} (a redirection or subshell) at character {self.position}; "
                    "only a plain spark-submit command can be translated"
                )
            elif char == "#" and not self.in_word:
                end = text.find("\n", self.position)
                self.position = len(text) if end < 0 else end
            else:
                self._append(char, 1)
        self._end_command()
        return self.commands

    def _append(self, piece: str, consumed: int) -> None:
        self.word.append(piece)
        self.in_word = True
        self.position += consumed

    def _jinja(self) -> bool:
        """A whole ``{{ ... }}`` (or ``{% %}``, ``{# #}``) as written; False when it is never closed."""
        closer = _JINJA_CLOSERS[self.text[self.position : self.position + 2]]
        end = self.text.find(closer, self.position + 2)
        if end < 0:
            return False
        self._append(self.text[self.position : end + 2], end + 2 - self.position)
        return True

    def _escape(self) -> None:
        following = self.text[self.position + 1 : self.position + 2]
        if following == "\n":  # a line continuation: nothing at all
            self.position += 2
        elif following:
            self._append(following, 2)
        else:
            self._append("\\", 1)

    def _single_quoted(self) -> None:
        end = self.text.find("'", self.position + 1)
        if end < 0:
            raise ValueError(f"unclosed single quote at character {self.position}")
        self._append(self.text[self.position + 1 : end], end + 1 - self.position)

    def _double_quoted(self) -> None:
        start = self.position
        self._append("", 1)
        text = self.text
        while self.position < len(text):
            char = text[self.position]
            if char == '"':
                self.position += 1
                return
            if text.startswith(tuple(_JINJA_CLOSERS), self.position) and self._jinja():
                continue
            following = text[self.position + 1 : self.position + 2]
            if char == "\\" and following and following in _DOUBLE_QUOTE_ESCAPES:
                self._append("" if following == "\n" else following, 2)
            else:
                self._append(char, 1)
        raise ValueError(f"unclosed double quote at character {start}")

    def _end_word(self) -> None:
        if self.in_word:
            self.words.append("".join(self.word))
        self.word, self.in_word = [], False

    def _end_command(self) -> None:
        self._end_word()
        if self.words:
            self.commands.append(self.words)
        self.words = []


def shell_commands(text: str) -> list[list[str]]:
    """The simple commands of ``text`` (empty ones left out), each as its list of words."""
    return _Lexer(text).run()
