"""Report: the markdown report and its figures; renderers only format what the analysis
computed.
"""
