"""The experiment: conditions captured over interleaved repeated runs, stored, loaded,
analysed.
"""
