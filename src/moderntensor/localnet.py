"""One command, the whole network on this machine (built by the localnet work)."""
