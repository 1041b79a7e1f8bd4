"""Luxtensor on CometBFT: the ABCI server, its generated types and the CometBFT home."""
