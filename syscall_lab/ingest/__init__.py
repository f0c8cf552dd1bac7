"""Corpora: many strace logs (and ADFA-LD traces) into one Parquet dataset, on a Dask cluster.

``sources`` finds and labels what to read; ``manifest`` records each source and decides what a
second run reads again; ``worker`` is the task that writes one source's part; ``cluster`` gives
the Dask client (a local cluster, or one by address); ``run`` is one ingest; ``dataset`` reads
a dataset back (profiles by label or source, n-grams per label, traces for the detectors).
Nothing is imported here, so the command line stays light.
"""
