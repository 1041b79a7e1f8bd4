"""Scoring: pure functions shared by validators and the chain (filled in by the scoring work)."""
