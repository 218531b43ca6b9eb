"""The exceptions the vector-file readers raise.

Every one is a ValueError (our rule for a corrupt or truncated file). The two that gensim users
catch under other names are also what gensim raises in those cases, so code written for either
library works: a file shorter than its header announces is an EOFError too, and a word that is
not valid in the file's encoding (with ``unicode_errors='strict'``) is a UnicodeDecodeError too.
"""


class VectorFileError(ValueError):
    """A vector file that cannot be read: corrupt, truncated or not in the expected format.

    The message names the path and the line (text) or byte offset (binary).
    """


class TruncatedVectorFileError(VectorFileError, EOFError):
    """The file ends before the vectors its header announces (gensim raises EOFError here)."""


class VectorFileDecodeError(VectorFileError, UnicodeDecodeError):
    """A word is not valid in the file's encoding (gensim raises UnicodeDecodeError here).

    ``encoding``, ``object``, ``start``, ``end`` and ``reason`` are those of the failed decode
    (``object`` is the bytes of the word); ``str()`` is our message naming the path and line.
    """

    def __init__(self, message, encoding, obj, start, end, reason):
        UnicodeDecodeError.__init__(self, encoding, obj, start, end, reason)
        self.message = message

    def __reduce__(self):
        return type(self), (self.message, self.encoding, self.object, self.start, self.end, self.reason)

    def __str__(self):
        return self.message
