"""Analyse: per-run tables of counts, shares, n-grams and timing; statistics over runs; the
phase cut.
"""
