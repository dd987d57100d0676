"""Analyses; every one starts from the day table."""
