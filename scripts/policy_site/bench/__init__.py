"""`make bench`: history, diff, build and notify timings on synthetic histories, ratios measured in one run."""
