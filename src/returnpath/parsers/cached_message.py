"""``CachedMessage``: the stdlib's compat32 ``Message``, with the header lookups
every family repeats memoised.

Why: a bounce is read by a dozen families, each asking the same parts for
``get``, ``get_all``, ``in``, ``get_content_type`` and ``get_param``; the
stdlib answers each by a walk over the header list. Here the answers are
kept in a memo on the message (``_memo``) until a method that changes headers
drops it, and the readers the parsers call thousands of times per corpus round
are copied from the stdlib so that they run compiled too
(``tests/parsers/test_fastparse.py`` holds every copied method to the
stdlib's on the corpus and on generated values).

Why private attributes of ``Message`` are read and written here (``_headers``,
``_payload``, ``_unixfrom``, ``_charset``, ``_default_type``): they *are* the
state of a compat32 ``Message`` and no public way reads them without the work
the memo exists to save (``items()`` copies and runs the policy's fetch step on
every value), nor builds a parsed tree (``set_raw`` and ``set_payload`` are
what ``parsers.fastparse`` avoids, one call per header). The stdlib's own
parser (``email.feedparser``) works on the same attributes.
``test_cached_message_is_initialised_as_the_stdlib_does`` fails when a
Python release changes the set or the order of these attributes, and the
tree comparisons in ``test_fastparse.py`` when their meaning changes.
"""

from __future__ import annotations

from email.message import Message
from email.policy import compat32
from email.utils import collapse_rfc2231_value
from typing import Any

_MISSING = object()
#: the stdlib's, for what CachedMessage.get_payload does not answer itself
_GET_PAYLOAD: Any = Message.get_payload

#: transfer encodings ``Message.get_payload(decode=True)`` undoes; any other leaves
#: the text as it is (as ASCII bytes)
DECODED_CTES = frozenset({"quoted-printable", "base64", "x-uuencode", "uuencode", "uue", "x-uue"})


def _unquote(value: str) -> str:
    """``email.utils.unquote``, compiled: parameters are unquoted thousands of times."""
    if len(value) > 1:
        if value.startswith('"') and value.endswith('"'):
            return value[1:-1].replace("\\\\", "\\").replace('\\"', '"')
        if value.startswith("<") and value.endswith(">"):
            return value[1:-1]
    return value


#: header names -> lower case, both as callers ask for them (string constants, whose
#: hash Python keeps) and as messages spell them (a few dozen names make up nearly
#: all traffic: Received, From, Content-Type, ...): one dict hit instead of a new
#: string, which then needs hashing. Bounded in entries and length: made-up names
#: cannot grow it far.
_LOWER_NAMES: dict[str, str] = {}


def lower_name(name: str) -> str:
    """``name.lower()``, memoised for header names."""
    low = _LOWER_NAMES.get(name)
    if low is None:
        low = name.lower()
        if len(name) <= 64 and len(_LOWER_NAMES) < 4096:
            _LOWER_NAMES[name] = low
    return low


class CachedMessage(Message):
    """``Message`` whose header lookups are memoised until a header changes."""

    _memo: dict[Any, Any] | None = None

    # -- stdlib methods the parsers call thousands of times per corpus round,
    # copied so that they run compiled too (tests/parsers/test_fastparse.py
    # holds them to the stdlib's) ------------------------------------------
    def __init__(self, policy: Any = compat32) -> None:
        # Message.__init__, same attributes in the same order, set through Any:
        # plain instance attributes (declared ones would be mypyc's own slots)
        me: Any = self
        me.policy = policy
        me._headers = []
        me._unixfrom = None
        me._payload = None
        me._charset = None
        me.preamble = me.epilogue = None
        me.defects = []
        me._default_type = "text/plain"

    def is_multipart(self) -> bool:
        return isinstance(self._payload, list)  # type: ignore[attr-defined]

    def attach(self, payload: Any) -> None:
        me: Any = self
        if me._payload is None:
            me._payload = [payload]
        else:
            try:
                me._payload.append(payload)
            except AttributeError:
                raise TypeError(
                    "Attach is not valid on a message with a non-multipart payload"
                ) from None

    def keys(self) -> list[str]:
        return [k for k, _ in self._headers]  # type: ignore[attr-defined]

    def get_payload(self, i: Any = None, decode: bool = False) -> Any:
        payload = self._payload  # type: ignore[attr-defined]
        # the answers Message.get_payload gives without decoding anything: a
        # multipart's list, an ASCII leaf's text as it is, and with decode=True, the
        # bytes of an ASCII leaf whose transfer encoding is none that it undoes
        if i is None and type(payload) is str and payload.isascii():
            if not decode:
                return payload
            cte = str(self.get("content-transfer-encoding", "")).lower()
            if cte not in DECODED_CTES:
                return payload.encode("ascii")
        elif i is None and not decode and isinstance(payload, list):
            return payload
        return _GET_PAYLOAD(self, i, decode)

    def get_boundary(self, failobj: Any = None) -> Any:
        # Message.get_boundary: collapse_rfc2231_value of a str is utils.unquote
        boundary = self.get_param("boundary", _MISSING)
        if boundary is _MISSING:
            return failobj
        if type(boundary) is str:
            return _unquote(boundary).rstrip()
        return collapse_rfc2231_value(boundary).rstrip()

    # -- memoised readers -------------------------------------------------
    def _names(self) -> list[str]:
        """The header names in lower case, in order (parallel to ``_headers``)."""
        memo = self._memo
        if memo is None or "names" not in memo:
            self._index()
            memo = self._memo
            assert memo is not None
        names: list[str] = memo["names"]
        return names

    def _first(self) -> dict[str, int]:
        """Lower-case header name -> index of its first occurrence in ``_headers``."""
        memo = self._memo
        if memo is None or "first" not in memo:
            self._index()
            memo = self._memo
            assert memo is not None
        first: dict[str, int] = memo["first"]
        return first

    def _index(self) -> None:
        """Both of the above, in one pass over the headers."""
        memo = self._memo
        if memo is None:
            memo = self._memo = {}
        names: list[str] = []
        first: dict[str, int] = {}
        for i, (k, _) in enumerate(self._headers):  # type: ignore[attr-defined]
            low = lower_name(k)
            names.append(low)
            if low not in first:
                first[low] = i
        memo["names"] = names
        memo["first"] = first

    def _fetch(self, k: str, v: Any) -> Any:
        if type(v) is str and self.policy is compat32 and v.isascii():
            return v  # what compat32's header_fetch_parse returns for it
        # Through Any: typeshed says str, but compat32 returns email.header.Header
        # for 8-bit values, and mypyc would check the declared type at run time.
        policy: Any = self.policy
        return policy.header_fetch_parse(k, v)

    def get(self, name: str, failobj: Any = None) -> Any:
        index = self._first().get(lower_name(name))
        if index is None:
            return failobj
        return self._fetch(*self._headers[index])  # type: ignore[attr-defined]

    def raw_get(self, name: str) -> Any:
        """The first ``name`` header's stored value, without the policy's fetch step."""
        index = self._first().get(lower_name(name))
        if index is None:
            return None
        return self._headers[index][1]  # type: ignore[attr-defined]

    def get_all(self, name: str, failobj: Any = None) -> Any:
        key = lower_name(name)
        if key not in self._first():
            return failobj
        headers = self._headers  # type: ignore[attr-defined]
        return [self._fetch(*headers[i]) for i, n in enumerate(self._names()) if n == key]

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return super().__contains__(name)  # type: ignore[operator]
        return lower_name(name) in self._first()

    def get_param(
        self, param: str, failobj: Any = None, header: str = "content-type", unquote: bool = True
    ) -> Any:
        memo = self._memo
        if memo is None:
            memo = self._memo = {}
        key = ("param", param, header, unquote)
        found = memo.get(key, _MISSING)
        if found is _MISSING:
            # Message.get_param, inlined over the memoised parameter list
            if lower_name(header) in self._first():
                params = self._params(header)
                if params is None:
                    found = super().get_param(param, _MISSING, header, unquote)
                else:
                    low = param.lower()
                    for k, v in params:
                        if k.lower() == low:
                            if not unquote:
                                found = v
                            elif type(v) is str:
                                found = _unquote(v)  # what get_param does to a str
                            else:  # an RFC 2231 (charset, language, value) triple
                                found = (v[0], v[1], _unquote(v[2]))
                            break
            memo[key] = found
        return failobj if found is _MISSING else found

    def get_content_type(self) -> str:
        memo = self._memo
        if memo is None:
            memo = self._memo = {}
        found = memo.get("ctype")
        if found is None:
            # Message.get_content_type, inlined (``_splitparam(value)[0].lower()``)
            value = self.get("content-type", _MISSING)
            if value is _MISSING:
                found = self.get_default_type()
            else:
                found = str(value).partition(";")[0].strip().lower()
                if found.count("/") != 1:
                    found = "text/plain"
            memo["ctype"] = found
        return found

    def get_content_maintype(self) -> str:
        return self.get_content_type().split("/")[0]

    def get_content_subtype(self) -> str:
        return self.get_content_type().split("/")[1]

    def _params(self, header: str) -> list[tuple[str, Any]] | None:
        """The memoised ``get_params(unquote=False)`` list (not a copy), None without the header."""
        memo = self._memo
        if memo is None:
            memo = self._memo = {}
        key = ("params", lower_name(header))
        found = memo.get(key, _MISSING)
        if found is _MISSING:
            value = self.get(header, _MISSING)
            if value is _MISSING:
                found = None
            else:
                found = _simple_params(value) if type(value) is str else None
                if found is None:
                    # the list get_params keeps before unquoting, not a copy
                    found = super().get_params(None, header, unquote=False)
            memo[key] = found
        return found  # type: ignore[no-any-return]  # the stdlib types _headers as Any

    def get_content_charset(self, failobj: Any = None) -> Any:
        memo = self._memo
        if memo is None:
            memo = self._memo = {}
        found = memo.get("charset", _MISSING)
        if found is _MISSING:
            # Message.get_content_charset: a plain ASCII parameter is lower-cased;
            # anything else (RFC 2231 tuples, 8-bit values) takes the stdlib's path
            param = self.get_param("charset", _MISSING)
            if param is _MISSING:
                found = _MISSING
            elif type(param) is str and param.isascii():
                found = param.lower()
            else:
                found = super().get_content_charset(_MISSING)
            memo["charset"] = found
        return failobj if found is _MISSING else found

    # -- every writer drops the memo ------------------------------------------
    def _forget(self) -> None:
        self._memo = None

    def __setitem__(self, name: str, val: Any) -> None:
        self._memo = None
        super().__setitem__(name, val)

    def __delitem__(self, name: str) -> None:
        self._memo = None
        super().__delitem__(name)

    def set_raw(self, name: str, value: Any) -> None:
        self._memo = None
        super().set_raw(name, value)

    def add_header(self, _name: str, _value: str, **_params: Any) -> None:
        self._memo = None
        super().add_header(_name, _value, **_params)

    def replace_header(self, _name: str, _value: Any) -> None:
        self._memo = None
        super().replace_header(_name, _value)

    def set_default_type(self, ctype: str) -> None:
        self._memo = None
        super().set_default_type(ctype)

    def set_param(self, *args: Any, **kwargs: Any) -> None:
        self._memo = None
        super().set_param(*args, **kwargs)
        self._memo = None

    def del_param(self, *args: Any, **kwargs: Any) -> None:
        self._memo = None
        super().del_param(*args, **kwargs)
        self._memo = None

    def set_type(self, *args: Any, **kwargs: Any) -> None:
        self._memo = None
        super().set_type(*args, **kwargs)
        self._memo = None

    def set_boundary(self, boundary: str) -> None:
        self._memo = None
        super().set_boundary(boundary)
        self._memo = None

    def set_charset(self, charset: Any) -> None:
        self._memo = None
        super().set_charset(charset)
        self._memo = None

    def set_payload(self, payload: Any, charset: Any = None) -> None:
        self._memo = None
        super().set_payload(payload, charset)
        self._memo = None


def _simple_params(value: str) -> list[tuple[str, str]] | None:
    """``Message.get_params(unquote=False)`` for a value without backslashes or RFC 2231
    stars (nearly all of them), or None to let the stdlib do it.

    When no quoted string holds a ';' (every piece has an even number of
    quotes), ``_parseparam`` splits at every ';'; ``decode_params`` then
    unquotes each value (``"..."`` or ``<...>``) and quotes it again.
    """
    if "\\" in value or "*" in value:
        return None
    pieces = value.split(";")
    if '"' in value and any(piece.count('"') % 2 for piece in pieces):
        return None
    params = []
    for piece in pieces:
        name, eq, val = piece.partition("=")
        if eq:
            params.append((name.strip().lower(), val.strip()))
        else:
            params.append((piece.strip(), ""))
    out = [params[0]]
    for name, val in params[1:]:
        if len(val) > 1 and (val[0], val[-1]) in (('"', '"'), ("<", ">")):
            val = val[1:-1]
        out.append((name, '"' + val.replace('"', '\\"') + '"'))
    return out
