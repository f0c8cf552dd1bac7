"""Report: the markdown report and its figures; renderers only format what the analysis
computed.

markdown (the report as a whole, written to disk) <- summary (one row per condition, the
findings), anomaly (the detection section), details (method and the collapsed tables), all
built from markup (table, collapsed block, figure link); figures (the PNGs).
"""
