"""Classify: which resource (normal, cpu, memory, io) a trace stresses, from whole-trace
features.
"""
