"""The test suite (pytest): unit/, integration/, service/ and browser/ by kind, their shared helpers in support/."""
