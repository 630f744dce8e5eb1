"""Subscribers and the mail they get: addresses, the store, the delivery ledger, messages, transports, the run."""
