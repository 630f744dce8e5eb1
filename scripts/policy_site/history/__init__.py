"""Git history → published versions: one log pass, batched blob reads, the publishing rules."""
