"""Reading an RFC 3161 answer as rfc3161-client needs it: strict DER, although authorities send the chain unsorted.

A token's SignedData carries the authority's certificates (and may carry CRLs) in a SET OF, which DER wants sorted by
their encodings. OpenSSL (`openssl ts -reply` with a chain, and the many TSAs built on it) and others write them in
chain order instead: the signer's certificate first. That is valid BER, which OpenSSL, Windows and Java read, but
rfc3161-client's parser is strict DER and refuses it ("InvalidSetOrdering" at SignedData::certificates).

`decode` therefore reads a copy in which those SET OF elements are in DER order and nothing else moved: the same bytes,
the same length, only those elements permuted. The signature does not cover them (it covers the TSTInfo and the signed
attributes), and a SET's order carries no meaning, so the copy says what the authority's answer says; a byte changed
in the answer is a byte changed in the copy. The answer itself is kept and published as the authority sent it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rfc3161_client import TimeStampResponse

SEQUENCE, CERTIFICATES, CRLS = 0x30, 0xA0, 0xA1  # SignedData's [0] IMPLICIT and [1] IMPLICIT SET OF


def _element(data: bytes, at: int, end: int) -> tuple[int, int]:
    """The element at `at`: where its contents start and where it ends (DER: definite lengths, low tags)."""
    if at + 2 > end or data[at] & 0x1F == 0x1F:
        raise ValueError("not DER")
    size = data[at + 1]
    if size < 0x80:
        start, length = at + 2, size
    elif 0 < size & 0x7F <= 4:
        start = at + 2 + (size & 0x7F)
        length = int.from_bytes(data[at + 2:start], "big")
    else:
        raise ValueError("not DER (an indefinite or oversized length)")
    if start + length > end:
        raise ValueError("not DER (an element longer than what holds it)")
    return start, start + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    """The elements that fill data[start:end]: (tag at, contents start, end) each."""
    found = []
    while start < end:
        contents, stop = _element(data, start, end)
        found.append((start, contents, stop))
        start = stop
    return found


def der_order(answer: bytes) -> bytes:
    """The answer (a TimeStampResp) with its SignedData's certificates and CRLs in DER order; else unchanged.

    Bytes that are not the expected structure are given back as they are, for the parser to name what is wrong."""
    try:
        response = _children(answer, *_element(answer, 0, len(answer)))
        if len(response) < 2 or answer[response[1][0]] != SEQUENCE:
            return answer  # no token (a refusal)
        content_info = _children(answer, response[1][1], response[1][2])  # contentType, [0] EXPLICIT SignedData
        if len(content_info) != 2 or answer[content_info[1][0]] != CERTIFICATES:
            return answer
        signed_data = _children(answer, content_info[1][1], content_info[1][2])
        if len(signed_data) != 1 or answer[signed_data[0][0]] != SEQUENCE:
            return answer
        ordered = bytearray(answer)
        for at, start, end in _children(answer, signed_data[0][1], signed_data[0][2]):
            if answer[at] in (CERTIFICATES, CRLS):
                ordered[start:end] = b"".join(sorted(answer[a:e] for a, _, e in _children(answer, start, end)))
        return bytes(ordered)
    except ValueError:
        return answer


def decode(answer: bytes) -> TimeStampResponse:
    """rfc3161-client's reading of the answer, its chain in any order; ValueError when it is none."""
    from rfc3161_client import decode_timestamp_response
    return decode_timestamp_response(der_order(answer))
