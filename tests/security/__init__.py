"""Attacks on the validator's code sandbox: each one must be refused or contained."""
