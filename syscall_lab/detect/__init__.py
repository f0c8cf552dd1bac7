"""Detect: anomaly detectors fitted on normal traces, their evaluation, ADFA-LD and our
conditions.
"""
