"""Proof of publication: `policy verify` (a site or an evidence archive) and `policy evidence` (a version's archive)."""
