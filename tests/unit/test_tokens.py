"""site/tokens.py: an answer's certificates (and CRLs) put in DER order by permuting them, nothing else moved."""

from __future__ import annotations

from policy_site.site.tokens import der_order


def _der(tag: int, *parts: bytes) -> bytes:
    body = b"".join(parts)
    size = bytes([len(body)]) if len(body) < 0x80 else bytes([0x82]) + len(body).to_bytes(2, "big")
    return bytes([tag]) + size + body


def _answer(certificates: list[bytes], crls: list[bytes]) -> bytes:
    signed_data = _der(0x30, _der(0x02, b"\x03"), _der(0x31), _der(0x30, _der(0x06, b"\x2a\x03")),
                       _der(0xA0, *certificates), _der(0xA1, *crls), _der(0x31, _der(0x30, b"\x05\x00" * 70)))
    token = _der(0x30, _der(0x06, b"\x2a\x86\x48"), _der(0xA0, signed_data))
    return _der(0x30, _der(0x30, _der(0x02, b"\x00")), token)


def test_the_chain_in_any_order_is_put_in_der_order_and_nothing_else_moves() -> None:
    leaf, intermediate, root = (_der(0x30, bytes([n]) * size) for n, size in ((9, 200), (5, 150), (1, 150)))
    crl_a, crl_b = _der(0x30, b"\x02"), _der(0x30, b"\x01")
    sent = _answer([leaf, intermediate, root], [crl_a, crl_b])
    ordered = der_order(sent)
    assert ordered == _answer(sorted([leaf, intermediate, root]), [crl_b, crl_a])
    assert len(ordered) == len(sent) and der_order(ordered) == ordered


def test_what_is_not_such_an_answer_is_given_back_as_it_is() -> None:
    refusal = _der(0x30, _der(0x30, _der(0x02, b"\x02")))
    truncated = _answer([_der(0x30, b"\x09" * 200), _der(0x30, b"\x01")], [])[:-40]
    indefinite = b"\x30\x80" + refusal + b"\x00\x00"
    for data in (b"", b"\x30", refusal, truncated, indefinite, b"not a token at all"):
        assert der_order(data) == data
