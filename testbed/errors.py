"""The one exception type a user can cause; the CLI prints it as one line."""


class TestbedError(Exception):
    """An error with a message that names the cause and the remedy."""

    __test__ = False  # not a pytest test class, despite the name
