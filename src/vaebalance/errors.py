"""The one exception type for mistakes a user can fix.

Every function that checks user input raises :class:`UserError` with one sentence that names
the problem and, where it helps, the valid choices. It subclasses ``ValueError`` so plain
Python callers can catch it the usual way; the CLI turns it into one line on stderr and exit
code 2, with no traceback.

Library messages name Python parameters (``target_mse``), never command-line flags: a
``UserError`` lists in ``params`` the parameter names its message mentions, and the CLI
rewrites those into its own spelling (``--target-mse``).
"""

from __future__ import annotations

from collections.abc import Iterable


class UserError(ValueError):
    """A problem with the user's input, stated in one line.

    Args:
        message: the sentence.
        params: parameter names the message mentions, for front ends that spell them
            differently (the CLI's flags).
    """

    def __init__(self, message: str, params: Iterable[str] = ()):
        super().__init__(message)
        self.params = tuple(params)


def unknown_choice(kind: str, name: object, valid: Iterable[str]) -> UserError:
    """The error for a name that is not one of the registered choices, listing them."""
    return UserError(f"unknown {kind} {name!r}; valid: {', '.join(sorted(valid))}")


def check(condition: bool, message: str, params: Iterable[str] = ()) -> None:
    """Raise :class:`UserError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise UserError(message, params)
